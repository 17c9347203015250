import { deflateSync } from 'node:zlib';

/**
 * A tiny raster canvas and PNG encoder (zlib from Node, nothing else), enough to draw
 * the benchmark chart: thick and dashed lines, discs, rectangles and 5x7 bitmap text.
 */

export type Rgb = [number, number, number];

export function parseColor(hex: string): Rgb {
  const h = hex.replace('#', '');
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
}

/**
 * The classic 5x7 font, ASCII 32..126: five columns per glyph, bit 0 = top row; bit 7 is
 * one row below the baseline, for the descenders of g, j, p, q and y.
 */
const FONT_5X7 =
  '0000000000' +
  '00005f0000' +
  '0007000700' +
  '147f147f14' +
  '242a7f2a12' +
  '2313086462' +
  '3649552250' +
  '0005030000' +
  '001c224100' +
  '0041221c00' +
  '14083e0814' +
  '08083e0808' +
  '0050300000' +
  '0808080808' +
  '0060600000' +
  '2010080402' +
  '3e5149453e' +
  '00427f4000' +
  '4261514946' +
  '2141454b31' +
  '1814127f10' +
  '2745454539' +
  '3c4a494930' +
  '0171090503' +
  '3649494936' +
  '064949291e' +
  '0036360000' +
  '0056360000' +
  '0814224100' +
  '1414141414' +
  '0041221408' +
  '0201510906' +
  '324979413e' +
  '7e1111117e' +
  '7f49494936' +
  '3e41414122' +
  '7f4141221c' +
  '7f49494941' +
  '7f09090901' +
  '3e4149497a' +
  '7f0808087f' +
  '00417f4100' +
  '2040413f01' +
  '7f08142241' +
  '7f40404040' +
  '7f020c027f' +
  '7f0408107f' +
  '3e4141413e' +
  '7f09090906' +
  '3e4151215e' +
  '7f09192946' +
  '4649494931' +
  '01017f0101' +
  '3f4040403f' +
  '1f2040201f' +
  '3f4038403f' +
  '6314081463' +
  '0708700807' +
  '6151494543' +
  '007f414100' +
  '0204081020' +
  '0041417f00' +
  '0402010204' +
  '4040404040' +
  '0001020400' +
  '2054545478' +
  '7f48444438' +
  '3844444420' +
  '384444487f' +
  '3854545418' +
  '087e090102' +
  '18a4a4a478' +
  '7f08040478' +
  '00447d4000' +
  '0080847d00' +
  '7f10284400' +
  '00417f4000' +
  '7c04180478' +
  '7c08040478' +
  '3844444438' +
  'fc24242418' +
  '18242424fc' +
  '7c08040408' +
  '4854545420' +
  '043f444020' +
  '3c4040207c' +
  '1c2040201c' +
  '3c4030403c' +
  '4428102844' +
  '1ca0a0a07c' +
  '4464544c44' +
  '0008364100' +
  '00007f0000' +
  '0041360800' +
  '08082a1c08';

function glyph(ch: string): number[] {
  let code = ch.charCodeAt(0);
  if (code < 32 || code > 126) code = 63; // '?'
  const at = (code - 32) * 10;
  return [0, 2, 4, 6, 8].map((i) => parseInt(FONT_5X7.slice(at + i, at + i + 2), 16));
}

export class Raster {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 3);
  }

  set(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    this.pixels.set(c, (yi * this.width + xi) * 3);
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let yy = Math.round(y); yy < Math.round(y + h); yy++) {
      for (let xx = Math.round(x); xx < Math.round(x + w); xx++) this.set(xx, yy, c);
    }
  }

  disc(cx: number, cy: number, r: number, c: Rgb): void {
    const r2 = r * r;
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        const dx = x - cx;
        const dy = y - cy;
        if (dx * dx + dy * dy <= r2) this.set(x, y, c);
      }
    }
  }

  ring(cx: number, cy: number, r: number, width: number, c: Rgb): void {
    const outer = r + width / 2;
    const inner = Math.max(0, r - width / 2);
    for (let y = Math.floor(cy - outer); y <= Math.ceil(cy + outer); y++) {
      for (let x = Math.floor(cx - outer); x <= Math.ceil(cx + outer); x++) {
        const d = Math.hypot(x - cx, y - cy);
        if (d <= outer && d >= inner) this.set(x, y, c);
      }
    }
  }

  /** A line of the given width; dash is [on, off] in pixels. */
  line(x1: number, y1: number, x2: number, y2: number, width: number, c: Rgb, dash?: number[]) {
    const length = Math.hypot(x2 - x1, y2 - y1);
    const steps = Math.max(1, Math.ceil(length * 2));
    const period = dash ? dash[0] + dash[1] : 0;
    for (let i = 0; i <= steps; i++) {
      const t = i / steps;
      if (dash && (t * length) % period > dash[0]) continue;
      this.disc(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t, width / 2, c);
    }
  }

  textWidth(text: string, scale: number): number {
    return text.length * 6 * scale - scale;
  }

  /** 5x7 text; (x, y) is the left end of the baseline unless anchored otherwise. */
  text(
    x: number,
    y: number,
    text: string,
    scale: number,
    c: Rgb,
    anchor: 'start' | 'middle' | 'end' = 'start',
    rotate = false,
  ): void {
    const w = this.textWidth(text, scale);
    const shift = anchor === 'middle' ? w / 2 : anchor === 'end' ? w : 0;
    for (let i = 0; i < text.length; i++) {
      const columns = glyph(text[i]);
      for (let col = 0; col < 5; col++) {
        for (let row = 0; row < 8; row++) {
          if (!((columns[col] >> row) & 1)) continue;
          const u = i * 6 * scale + col * scale - shift;
          const v = (row - 7) * scale;
          if (rotate) this.fillRect(x + v, y - u - scale, scale, scale, c);
          else this.fillRect(x + u, y + v, scale, scale, c);
        }
      }
    }
  }

  /** Box-filter downsampling by an integer factor (supersampled anti-aliasing). */
  downsample(factor: number): Raster {
    const out = new Raster(Math.floor(this.width / factor), Math.floor(this.height / factor));
    const n = factor * factor;
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) {
        const sum = [0, 0, 0];
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++) {
            const at = ((y * factor + dy) * this.width + (x * factor + dx)) * 3;
            sum[0] += this.pixels[at];
            sum[1] += this.pixels[at + 1];
            sum[2] += this.pixels[at + 2];
          }
        }
        out.pixels.set(
          sum.map((s) => Math.round(s / n)),
          (y * out.width + x) * 3,
        );
      }
    }
    return out;
  }

  toPng(): Buffer {
    const rowBytes = this.width * 3 + 1;
    const raw = Buffer.alloc(rowBytes * this.height);
    for (let y = 0; y < this.height; y++) {
      raw[y * rowBytes] = 0; // filter: none
      Buffer.from(this.pixels.buffer, y * this.width * 3, this.width * 3).copy(
        raw,
        y * rowBytes + 1,
      );
    }
    const header = Buffer.alloc(13);
    header.writeUInt32BE(this.width, 0);
    header.writeUInt32BE(this.height, 4);
    header[8] = 8; // bit depth
    header[9] = 2; // colour type: RGB
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(raw, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
