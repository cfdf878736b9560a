// A byte buffer written front to back that doubles when a write needs more room: the base of the tap
// event encoder and the access-log line buffer, which fill it field by field and reuse it once sent.

export class GrowableBytes {
  /** The written bytes are bytes[0, length). */
  bytes: Uint8Array;
  length = 0;

  constructor(initialBytes: number) {
    this.bytes = new Uint8Array(initialBytes);
  }

  /** Room for `n` more bytes (the written ones are kept). */
  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.replaced();
  }

  /** Called after `bytes` was replaced by a larger array (for views over it). */
  protected replaced(): void {}
}
