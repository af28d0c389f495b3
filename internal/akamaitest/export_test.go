package akamaitest

var SigningKey = func(secret, timestamp string) string { return hmacB64(secret, timestamp) }
