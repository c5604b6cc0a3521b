// How file content crosses the wire, in both directions in chunks, so that
// neither end ever holds a whole file in memory.
//
// Down (print, pull -u): `archive-fetch MD5 OFFSET` answers with the stored
// file's name ("MD5" or "MD5.gz"), its stored size and up to kContentChunk
// stored bytes from OFFSET; the reader asks again until it has them all and
// decodes them itself (transport/content_client.h).
//
// Up (submit): `submit DEPOTPATH SIZE` answers {"upload": "1"} and the
// connection becomes the upload. The client sends SIZE bytes as kContent
// frames of at most kContentChunk bytes; the server answers each, once it is
// written, with a Response {"received": BYTES}. The client keeps at most
// kUploadWindow chunks unanswered (a server refuses more) so the server
// buffers little however fast the client is. After the last chunk comes one
// more Response: the committed revision, or the error. The client then
// closes the connection; closing it earlier abandons the upload.
#pragma once

#include <cstddef>

namespace tandem {

inline constexpr size_t kContentChunk = 1 << 20;
inline constexpr size_t kUploadWindow = 4;

}  // namespace tandem
