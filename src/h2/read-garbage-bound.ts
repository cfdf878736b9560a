// Bounds the garbage a bulk relay leaves between collections: every socket read is a new buffer, and a
// body streamed at memory speed makes them faster than the collector's own schedule frees them (a
// 1 GiB response grew RSS by 34–47 MB). After READ_BYTES_PER_COLLECTION bytes read on HTTP/2 sockets
// (process-wide) an asynchronous collection is requested (22 MB; and less CPU, not more); small
// requests reach that every ~10k requests.
import { gc } from "bun";

/** Bytes read between two requested collections. */
export const READ_BYTES_PER_COLLECTION = 1024 * 1024;

let readSinceCollection = 0;

/** Counts `bytes` read from an HTTP/2 socket; requests a collection when enough accumulated. */
export function countReadBytes(bytes: number): void {
  readSinceCollection += bytes;
  if (readSinceCollection < READ_BYTES_PER_COLLECTION) return;
  readSinceCollection = 0;
  gc(false);
}
