// Package netstorage mirrors objects to Akamai NetStorage through its HTTP
// (Usage) API: a streaming PUT with "X-Akamai-ACS-Action:
// version=1&action=upload" (with md5, sha256, size and mtime when known),
// delete, and the X-Akamai-ACS-Auth-Data / X-Akamai-ACS-Auth-Sign
// HMAC-SHA256 signature on every request.
//
// Uploads stream: the body goes to the network as it is read, so memory
// does not grow with the object's size, and a body of unknown length is sent
// chunked. NetStorage creates the directories of an uploaded path
// implicitly, so no mkdir is sent. Keys that would leave the configured
// directory are refused with mirror.ErrUnsafeKey before anything is sent.
package netstorage
