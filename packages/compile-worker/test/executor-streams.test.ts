// The byte-level plumbing under the build log: Docker's multiplexed attach stream and lines.
import { describe, expect, it } from 'vitest';
import { DockerStreamDemuxer, type DockerStreamName } from '../src/executor/docker-stream-demuxer.ts';
import { LineSplitter } from '../src/executor/line-splitter.ts';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('DockerStreamDemuxer', () => {
  it('splits frames into their streams wherever the chunks are cut', () => {
    const wire = Buffer.concat([
      frame(1, 'out one\n'),
      frame(2, 'err ü\n'),
      frame(1, ''),
      frame(1, 'out two'),
    ]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const got: [DockerStreamName, string][] = [];
      const demux = new DockerStreamDemuxer((stream, payload) =>
        got.push([stream, payload.toString('utf8')]),
      );

      demux.push(wire.subarray(0, cut));
      demux.push(wire.subarray(cut));

      expect(got, `cut at ${cut}`).toEqual([
        ['stdout', 'out one\n'],
        ['stderr', 'err ü\n'],
        ['stdout', 'out two'],
      ]);
      expect(demux.pendingBytes).toBe(0);
    }
  });

  it('keeps an incomplete frame until the rest arrives', () => {
    const got: string[] = [];
    const demux = new DockerStreamDemuxer((_stream, payload) => got.push(payload.toString()));
    const wire = frame(1, 'abcdef');

    demux.push(wire.subarray(0, 10));

    expect(got).toEqual([]);
    expect(demux.pendingBytes).toBe(10);
  });
});

describe('LineSplitter', () => {
  it('emits lines across chunks, drops CR of CRLF, and flushes the last line on end', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from('first\r\nsec', 'utf8');

    splitter.push(bytes.subarray(0, 3));
    splitter.push(bytes.subarray(3));
    splitter.push(Buffer.from('ond\n\nlast'));
    splitter.end();

    expect(lines).toEqual(['first', 'second', '', 'last']);
  });

  it('decodes a UTF-8 character split between chunks', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from('naïve ✓\n', 'utf8');

    for (const byte of bytes) splitter.push(Uint8Array.of(byte));

    expect(lines).toEqual(['naïve ✓']);
  });

  it('cuts a line longer than the limit into pieces instead of buffering it', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 4);

    splitter.push(Buffer.from('abcdefghij\nxy'));
    splitter.end();

    expect(lines).toEqual(['abcd', 'efgh', 'ij', 'xy']);
  });
});
