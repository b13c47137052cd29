// PNG handling for the example: a cheap header check for the web front end (no pixel is
// decoded in the request path) and the greyscale conversion the worker runs.
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';

/** Why bytes are not an acceptable PNG: `NOT_PNG` (wrong signature) or `INVALID_PNG` (broken header). */
export class PngFormatError extends Error {
  readonly code: 'NOT_PNG' | 'INVALID_PNG';
  constructor(code: 'NOT_PNG' | 'INVALID_PNG', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PngFormatError';
    this.code = code;
  }
}

export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colourType: number;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// Colour type → the bit depths the PNG specification allows for it.
const DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * Reads and checks the signature and the IHDR chunk (with its CRC), which every PNG starts
 * with. Throws `PngFormatError`. It does not prove the pixel data is intact: that only shows
 * when the image is decoded.
 *
 * @example
 * ```ts
 * const { width, height } = readPngHeader(upload); // 33 bytes are enough
 * ```
 */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < SIGNATURE.length || !buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new PngFormatError('NOT_PNG', 'not a PNG: the PNG signature is missing');
  }
  // signature(8) | length(4)=13 | "IHDR"(4) | width(4) height(4) depth colour compression filter interlace | crc(4)
  if (buf.length < 33 || buf.readUInt32BE(8) !== 13 || buf.toString('latin1', 12, 16) !== 'IHDR') {
    throw new PngFormatError('INVALID_PNG', 'invalid PNG: it does not start with an IHDR chunk');
  }
  if (crc32(buf.subarray(12, 29)) !== buf.readUInt32BE(29)) {
    throw new PngFormatError('INVALID_PNG', 'invalid PNG: the IHDR checksum does not match');
  }
  const header = {
    width: buf.readUInt32BE(16),
    height: buf.readUInt32BE(20),
    bitDepth: buf[24] ?? 0,
    colourType: buf[25] ?? 0,
  };
  const [compression, filter, interlace] = [buf[26], buf[27], buf[28]];
  const ok =
    header.width > 0 &&
    header.height > 0 &&
    (DEPTHS[header.colourType]?.includes(header.bitDepth) ?? false) &&
    compression === 0 &&
    filter === 0 &&
    (interlace === 0 || interlace === 1);
  if (!ok) throw new PngFormatError('INVALID_PNG', 'invalid PNG: impossible IHDR values');
  return header;
}

/**
 * Decodes `png` (any colour type, bit depth or interlacing), replaces every pixel by its luma
 * (ITU-R BT.601 weights) and encodes the result as a greyscale PNG, keeping transparency.
 * Throws (pngjs's errors) when the image data is corrupt.
 *
 * @example
 * ```ts
 * const grey = toGreyscale(await readFile('photo.png'));
 * await writeFile('photo-grey.png', grey.png);
 * ```
 */
export function toGreyscale(png: Buffer): { png: Buffer; width: number; height: number } {
  const image = PNG.sync.read(png); // always 8-bit RGBA after decoding
  const rgba = image.data;
  let opaque = true;
  for (let i = 0; i < rgba.length; i += 4) {
    const luma = Math.round(0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!);
    rgba[i] = luma;
    rgba[i + 1] = luma;
    rgba[i + 2] = luma;
    opaque &&= rgba[i + 3] === 255;
  }
  // Colour type 0 (grey) or 4 (grey + alpha): pngjs would blend transparency away in type 0.
  const out = PNG.sync.write(image, { colorType: opaque ? 0 : 4, inputColorType: 6 });
  return { png: out, width: image.width, height: image.height };
}
