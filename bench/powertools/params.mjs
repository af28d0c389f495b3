// The Powertools for AWS Lambda (TypeScript) contender of measurement 2:
// the parameters and secrets the harness names, read through Parameters'
// getParametersByName and getSecret, as a Node.js function would read them.
// The endpoint comes from AWS_ENDPOINT_URL (the harness's counting proxy in
// front of moto); the job from OFFLOAD_BENCH_JOB:
//
//   {"parameters": [names], "secrets": [names], "maxAge": s, "hitReads": n, "hitRounds": r}
//
// Phases "load", "refresh" (after maxAge has passed) and, when hitReads > 0,
// "hit": each prints one JSON line and waits for a line on stdin, so the
// harness counts each phase's calls on its own.
import { createInterface } from 'node:readline';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter, getParametersByName } from '@aws-lambda-powertools/parameters/ssm';

const job = JSON.parse(process.env.OFFLOAD_BENCH_JOB);
job.parameters ??= [];
job.secrets ??= [];
const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function phase(name, fn) {
  const out = await fn();
  process.stdout.write(`${JSON.stringify({ phase: name, ...out })}\n`);
  const { done } = await stdin.next();
  if (done) process.exit(1);
}

// Every parameter is a SecureString: decrypt for all of them lets
// getParametersByName use GetParameters, ten names a call.
async function readAll(maxAge) {
  const parameters = job.parameters.length === 0 ? {}
    : await getParametersByName(Object.fromEntries(job.parameters.map((n) => [n, {}])), { decrypt: true, maxAge });
  const secrets = {};
  await Promise.all(job.secrets.map(async (n) => { secrets[n] = await getSecret(n, { maxAge }); }));
  return { parameters, secrets };
}

// nsPerRead times reads of a cached value, awaited as a handler awaits them.
async function nsPerRead(read) {
  await read(); // cached from here on
  const start = process.hrtime.bigint();
  for (let i = 0; i < job.hitReads; i++) await read();
  return Number(process.hrtime.bigint() - start) / job.hitReads;
}

await phase('load', () => readAll(job.maxAge));
await new Promise((resolve) => setTimeout(resolve, job.maxAge * 1000 + 100));
await phase('refresh', () => readAll(job.maxAge));
if (job.hitReads > 0) {
  await phase('hit', async () => {
    const hour = { maxAge: 3600 };
    const rounds = [];
    for (let r = 0; r < job.hitRounds; r++) {
      rounds.push({
        parameter: await nsPerRead(() => getParameter(job.parameters[0], { decrypt: true, ...hour })),
        secret: await nsPerRead(() => getSecret(job.secrets[0], hour)),
      });
    }
    return { rounds };
  });
}
// stdin and the SDK's kept-alive sockets would keep Node.js running.
process.exit(0);
