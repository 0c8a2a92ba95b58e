// A screenshot of the whole Xvfb display, for when WebKitWebDriver's screenshot
// command hangs: `xwd -root` (x11-utils, installed for xwininfo already) dumps the
// display, and this turns the dump into a PNG with node's own zlib (no image tool
// to install).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';

const run = promisify(execFile);

/** Writes the X display `display` (e.g. ":99") to `file` as a PNG. */
export async function captureDisplay(display, file) {
  const { stdout } = await run('xwd', ['-root', '-silent', '-display', display], {
    encoding: 'buffer',
    maxBuffer: 256 << 20,
    timeout: 20_000,
  });
  writeFileSync(file, xwdToPng(stdout));
}

/** A 24/32-bit TrueColor XWD dump (what Xvfb gives) as PNG bytes. */
export function xwdToPng(xwd) {
  const field = (i) => xwd.readUInt32BE(i * 4);
  const [headerSize, width, height] = [field(0), field(4), field(5)];
  const byteOrder = field(7); // 0: LSBFirst
  const bitsPerPixel = field(11);
  const bytesPerLine = field(12);
  const ncolors = field(19);
  if (bitsPerPixel !== 32 && bitsPerPixel !== 24) throw new Error(`xwd: ${bitsPerPixel} bits per pixel is not handled`);
  const [redMask, greenMask, blueMask] = [field(14), field(15), field(16)];
  const offset = headerSize + ncolors * 12;
  const step = bitsPerPixel / 8;
  const shift = (mask) => (mask === 0 ? 0 : Math.log2(mask & -mask));
  const [rs, gs, bs] = [shift(redMask), shift(greenMask), shift(blueMask)];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const at = offset + y * bytesPerLine + x * step;
      const pixel = step === 4 ? (byteOrder === 0 ? xwd.readUInt32LE(at) : xwd.readUInt32BE(at)) : byteOrder === 0 ? xwd.readUIntLE(at, 3) : xwd.readUIntBE(at, 3);
      const out = y * (width * 3 + 1) + 1 + x * 3;
      raw[out] = ((pixel & redMask) >>> rs) & 0xff;
      raw[out + 1] = ((pixel & greenMask) >>> gs) & 0xff;
      raw[out + 2] = ((pixel & blueMask) >>> bs) & 0xff;
    }
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
