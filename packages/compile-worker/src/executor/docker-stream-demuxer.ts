/** The streams Docker multiplexes onto one connection when a container has no TTY. */
export type DockerStreamName = 'stdin' | 'stdout' | 'stderr';

const STREAMS: readonly DockerStreamName[] = ['stdin', 'stdout', 'stderr'];
const HEADER = 8;

/**
 * Splits Docker's multiplexed output (exec attach, container logs without a TTY) into its
 * streams. Each frame is an 8-byte header (stream id, 3 zero bytes, big-endian payload length)
 * and the payload; frames and headers may be cut anywhere across chunks.
 *
 * @example
 * ```ts
 * const demux = new DockerStreamDemuxer((stream, payload) => process[stream === 'stderr' ? 'stderr' : 'stdout'].write(payload));
 * socket.on('data', (chunk) => demux.push(chunk));
 * ```
 */
export class DockerStreamDemuxer {
  readonly #onPayload: (stream: DockerStreamName, payload: Buffer) => void;
  #buffered: Buffer = Buffer.alloc(0);

  constructor(onPayload: (stream: DockerStreamName, payload: Buffer) => void) {
    this.#onPayload = onPayload;
  }

  push(chunk: Uint8Array): void {
    let data = this.#buffered.length > 0 ? Buffer.concat([this.#buffered, chunk]) : Buffer.from(chunk);
    while (data.length >= HEADER) {
      const length = data.readUInt32BE(4);
      if (data.length < HEADER + length) break;
      const stream = STREAMS[data[0] ?? 1] ?? 'stdout';
      if (length > 0) this.#onPayload(stream, data.subarray(HEADER, HEADER + length));
      data = data.subarray(HEADER + length);
    }
    // Copy the remainder: a subarray would pin the whole (possibly large) chunk in memory.
    this.#buffered = Buffer.from(data);
  }

  /** Bytes of an incomplete frame still waiting for the rest (0 after a clean end). */
  get pendingBytes(): number {
    return this.#buffered.length;
  }
}
