/*
 * pxlemu_format.c - pixel formats and PxLFormatImage: a table of output formats, each with its size and
 * its writer (raw MONO8 / RGB24 / BGR24 / RGB48, BMP, TIFF, PNG with stored zlib blocks).  Geometry comes
 * only from the frame descriptor; no lock is needed (no camera state).
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <string.h>

/* ================================================================ pixel formats */

int pf_is_bayer(U32 pf)
{
    return pf == 3 || pf == 4 || (pf >= 7 && pf <= 12) || (pf >= 14 && pf <= 17);
}

int pf_is_packed12(U32 pf) { return pf >= PIXEL_FORMAT_MONO12_PACKED && pf <= PIXEL_FORMAT_BAYER12_BGGR_PACKED; }

int pf_bpp(U32 pf)
{
    switch (pf) {
    case PIXEL_FORMAT_MONO8: case 3: case 7: case 8: case 9: return 1;
    case PIXEL_FORMAT_MONO16: case 4: case 10: case 11: case 12: return 2;
    default: return pf_is_packed12(pf) ? 2 : 0;
    }
}

size_t pf_frame_bytes(U32 pf, U32 w, U32 h)
{
    size_t n = (size_t)w * h;
    if (pf_is_packed12(pf))
        return (n * 3 + 1) / 2; /* 2 pixels in 3 bytes; an odd last pixel takes 2 */
    return n * (size_t)pf_bpp(pf);
}

/* phase index 0 GRBG, 1 RGGB, 2 GBRG, 3 BGGR of a Bayer format */
static int phase_of(U32 pf)
{
    switch (pf) {
    case 3: case 4: case 14: return 0;
    case 7: case 10: case 15: return 1;
    case 8: case 11: case 16: return 2;
    default: return 3;
    }
}

int cfa_colour(U32 pf, U32 x, U32 y)
{
    static const U8 cfa[4][2][2] = {{{1, 0}, {2, 1}},  /* GRBG */
                                    {{0, 1}, {1, 2}},  /* RGGB */
                                    {{1, 2}, {0, 1}},  /* GBRG */
                                    {{2, 1}, {1, 0}}}; /* BGGR */
    return cfa[phase_of(pf)][y & 1][x & 1];
}

U32 pf_shift_phase(U32 pf, U32 dx, U32 dy)
{
    if (!pf_is_bayer(pf) || !((dx | dy) & 1))
        return pf;
    static const U32 family[3][4] = {{3, 7, 8, 9}, {4, 10, 11, 12}, {14, 15, 16, 17}};
    int fam = pf_is_packed12(pf) ? 2 : pf_bpp(pf) == 2 ? 1 : 0;
    int ph = phase_of(pf);
    /* the colour at (x, y) after shifting is the old colour at (x + dx, y + dy) */
    int colour00 = cfa_colour(pf, dx, dy), colour10 = cfa_colour(pf, dx + 1, dy);
    for (int i = 0; i < 4; i++)
        if (cfa_colour(family[fam][i], 0, 0) == colour00 && cfa_colour(family[fam][i], 1, 0) == colour10)
            return family[fam][i];
    return family[fam][ph];
}

/* ================================================================ reading the source image */

typedef struct {
    const U8 *src;
    U32 w, h, pf, bpp;
} img_t;

static U32 sample16(const img_t *im, U32 x, U32 y)
{
    if (pf_is_packed12(im->pf)) { /* GigE Vision 1.0: b0 = P0[11:4], b1 = P0[3:0] | P1[3:0] << 4, b2 = P1[11:4] */
        size_t i = (size_t)y * im->w + x;
        const U8 *q = im->src + (i / 2) * 3;
        U32 v = (i & 1) ? ((U32)q[2] << 4) | (q[1] >> 4) : ((U32)q[0] << 4) | (q[1] & 0xF);
        return v << 4;
    }
    const U8 *p = im->src + ((size_t)y * im->w + x) * im->bpp;
    return im->bpp == 1 ? (U32)p[0] << 8 : ((U32)p[0] << 8) | p[1];
}

/* 16-bit RGB of pixel (x, y); Bayer: 2x2 super-pixel demosaic */
static void pixel_rgb16(const img_t *im, U32 x, U32 y, U32 rgb[3])
{
    if (!pf_is_bayer(im->pf)) {
        rgb[0] = rgb[1] = rgb[2] = sample16(im, x, y);
        return;
    }
    U32 x0 = x & ~1u, y0 = y & ~1u;
    U32 x1 = x0 + 1 < im->w ? x0 + 1 : x0, y1 = y0 + 1 < im->h ? y0 + 1 : y0;
    U32 sum[3] = {0, 0, 0}, cnt[3] = {0, 0, 0};
    U32 xs[2] = {x0, x1}, ys[2] = {y0, y1};
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int col = cfa_colour(im->pf, (U32)i, (U32)j);
            sum[col] += sample16(im, xs[i], ys[j]);
            cnt[col]++;
        }
    for (int k = 0; k < 3; k++)
        rgb[k] = cnt[k] ? sum[k] / cnt[k] : 0;
}

static U8 grey8(const img_t *im, U32 x, U32 y)
{
    if (!pf_is_bayer(im->pf))
        return (U8)(sample16(im, x, y) >> 8);
    U32 rgb[3];
    pixel_rgb16(im, x, y, rgb);
    return (U8)(((rgb[0] + 2 * rgb[1] + rgb[2]) / 4) >> 8);
}

/* 8-bit R,G,B (bgr: B,G,R) of pixel (x, y) at out */
static void put_rgb8(const img_t *im, U32 x, U32 y, U8 *out, int bgr)
{
    U32 rgb[3];
    pixel_rgb16(im, x, y, rgb);
    out[0] = (U8)(rgb[bgr ? 2 : 0] >> 8);
    out[1] = (U8)(rgb[1] >> 8);
    out[2] = (U8)(rgb[bgr ? 0 : 2] >> 8);
}

/* one 8-bit pixel of the output's colour model (grey or R,G,B / B,G,R) at out; returns the byte count */
static size_t put_pixel8(const img_t *im, U32 x, U32 y, U8 *out, int bgr)
{
    if (!pf_is_bayer(im->pf)) {
        *out = grey8(im, x, y);
        return 1;
    }
    put_rgb8(im, x, y, out, bgr);
    return 3;
}

static void put16le(U8 *p, U32 v) { p[0] = (U8)v; p[1] = (U8)(v >> 8); }
static void put32le(U8 *p, U32 v) { p[0] = (U8)v; p[1] = (U8)(v >> 8); p[2] = (U8)(v >> 16); p[3] = (U8)(v >> 24); }
static void put32be(U8 *p, U32 v) { p[0] = (U8)(v >> 24); p[1] = (U8)(v >> 16); p[2] = (U8)(v >> 8); p[3] = (U8)v; }

static U32 crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static void crc_init(void)
{
    for (U32 n = 0; n < 256; n++) {
        U32 c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}
static U32 crc32_buf(const U8 *p, size_t n)
{
    U32 c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static size_t channels(const img_t *im) { return pf_is_bayer(im->pf) ? 3 : 1; }

/* ================================================================ raw formats */

static size_t size_mono8(const img_t *im) { return (size_t)im->w * im->h; }
static size_t size_rgb24(const img_t *im) { return (size_t)im->w * im->h * 3; }
static size_t size_rgb48(const img_t *im) { return (size_t)im->w * im->h * 6; }

static void write_mono8(const img_t *im, U8 *out, size_t size)
{
    (void)size;
    for (U32 y = 0; y < im->h; y++)
        for (U32 x = 0; x < im->w; x++)
            *out++ = grey8(im, x, y);
}

static void write_rgb24_dib(const img_t *im, U8 *out, size_t size) /* B,G,R, bottom row first (Windows DIB) */
{
    (void)size;
    for (U32 y = im->h; y-- > 0;)
        for (U32 x = 0; x < im->w; x++, out += 3)
            put_rgb8(im, x, y, out, 1);
}

static void write_top_down24(const img_t *im, U8 *out, int bgr)
{
    for (U32 y = 0; y < im->h; y++)
        for (U32 x = 0; x < im->w; x++, out += 3)
            put_rgb8(im, x, y, out, bgr);
}
static void write_rgb24(const img_t *im, U8 *out, size_t size) { (void)size; write_top_down24(im, out, 0); }
static void write_bgr24(const img_t *im, U8 *out, size_t size) { (void)size; write_top_down24(im, out, 1); }

static void write_rgb48(const img_t *im, U8 *out, size_t size) /* R,G,B 16-bit little-endian, top row first */
{
    (void)size;
    U32 rgb[3];
    for (U32 y = 0; y < im->h; y++)
        for (U32 x = 0; x < im->w; x++) {
            pixel_rgb16(im, x, y, rgb);
            for (int k = 0; k < 3; k++) {
                put16le(out, rgb[k]);
                out += 2;
            }
        }
}

/* ================================================================ BMP: 8-bit grey + palette or 24-bit */

static size_t bmp_stride(const img_t *im) { return ((size_t)im->w * channels(im) + 3) & ~(size_t)3; }
static U32 bmp_data_offset(const img_t *im) { return 14 + 40 + (pf_is_bayer(im->pf) ? 0 : 1024); }

static size_t size_bmp(const img_t *im) { return bmp_data_offset(im) + bmp_stride(im) * im->h; }

static void write_bmp(const img_t *im, U8 *out, size_t size) /* bottom-up, rows padded to 4 bytes */
{
    U32 w = im->w, h = im->h;
    int colour = pf_is_bayer(im->pf);
    U32 stride = (U32)bmp_stride(im);
    U32 off = bmp_data_offset(im);
    memset(out, 0, size);
    out[0] = 'B';
    out[1] = 'M';
    put32le(out + 2, (U32)size);
    put32le(out + 10, off);
    put32le(out + 14, 40);
    put32le(out + 18, w);
    put32le(out + 22, h); /* positive: bottom-up */
    put16le(out + 26, 1);
    put16le(out + 28, (U32)(colour ? 24 : 8));
    put32le(out + 34, stride * h);
    put32le(out + 38, 2835); /* 72 dpi */
    put32le(out + 42, 2835);
    if (!colour) {
        put32le(out + 46, 256);
        for (U32 i = 0; i < 256; i++) {
            U8 *q = out + 54 + 4 * i;
            q[0] = q[1] = q[2] = (U8)i;
        }
    }
    for (U32 y = 0; y < h; y++) {
        U8 *row = out + off + (size_t)(h - 1 - y) * stride;
        for (U32 x = 0; x < w; x++)
            row += put_pixel8(im, x, y, row, 1);
    }
}

/* ================================================================ TIFF: little-endian baseline, one strip */

#define TIFF_ENTRIES 13

static size_t size_tiff(const img_t *im)
{
    return 8 + 2 + TIFF_ENTRIES * 12 + 4 + 6 + 16 + (size_t)im->w * im->h * channels(im);
}

static void write_tiff(const img_t *im, U8 *out, size_t size) /* uncompressed, 8-bit grey or RGB */
{
    U32 w = im->w, h = im->h;
    int colour = pf_is_bayer(im->pf);
    U32 ch = (U32)channels(im);
    memset(out, 0, size);
    const U32 nent = TIFF_ENTRIES, ifd = 8, extra = 8 + 2 + nent * 12 + 4;
    const U32 bps_off = extra, xres_off = extra + 6, yres_off = extra + 14, data_off = extra + 22;
    out[0] = 'I';
    out[1] = 'I';
    put16le(out + 2, 42);
    put32le(out + 4, ifd);
    put16le(out + ifd, nent);
    U8 *e = out + ifd + 2;
    struct { U32 tag, type, count, value; } ents[TIFF_ENTRIES] = {
        {256, 4, 1, w},                                 /* ImageWidth */
        {257, 4, 1, h},                                 /* ImageLength */
        {258, 3, ch, colour ? bps_off : 8},             /* BitsPerSample */
        {259, 3, 1, 1},                                 /* Compression: none */
        {262, 3, 1, colour ? 2u : 1u},                  /* Photometric: RGB / BlackIsZero */
        {273, 4, 1, data_off},                          /* StripOffsets */
        {277, 3, 1, ch},                                /* SamplesPerPixel */
        {278, 4, 1, h},                                 /* RowsPerStrip */
        {279, 4, 1, w * h * ch},                        /* StripByteCounts */
        {282, 5, 1, xres_off},                          /* XResolution */
        {283, 5, 1, yres_off},                          /* YResolution */
        {284, 3, 1, 1},                                 /* PlanarConfiguration: chunky */
        {296, 3, 1, 2},                                 /* ResolutionUnit: inch */
    };
    for (U32 i = 0; i < nent; i++, e += 12) {
        put16le(e, ents[i].tag);
        put16le(e + 2, ents[i].type);
        put32le(e + 4, ents[i].count);
        if (ents[i].type == 3 && ents[i].count == 1)
            put16le(e + 8, ents[i].value);
        else
            put32le(e + 8, ents[i].value);
    }
    put32le(e, 0); /* no next IFD */
    put16le(out + bps_off, 8);
    put16le(out + bps_off + 2, 8);
    put16le(out + bps_off + 4, 8);
    put32le(out + xres_off, 72);
    put32le(out + xres_off + 4, 1);
    put32le(out + yres_off, 72);
    put32le(out + yres_off + 4, 1);
    U8 *d = out + data_off;
    for (U32 y = 0; y < h; y++)
        for (U32 x = 0; x < w; x++)
            d += put_pixel8(im, x, y, d, 0);
}

/* ================================================================ PNG: 8-bit grey or RGB, zlib stored blocks */

static size_t png_raw_size(const img_t *im) { return (size_t)im->h * (1 + (size_t)im->w * channels(im)); }
static size_t png_blocks(size_t raw) { return raw ? (raw + 65534) / 65535 : 1; }

static size_t size_png(const img_t *im)
{
    size_t raw = png_raw_size(im);
    return 8 + (12 + 13) + (12 + 2 + raw + 5 * png_blocks(raw) + 4) + 12;
}

/* byte pos of the filtered scanlines (filter type None) */
static U8 png_raw_byte(const img_t *im, size_t pos)
{
    size_t rowlen = 1 + (size_t)im->w * channels(im);
    size_t y = pos / rowlen, r = pos % rowlen;
    if (r == 0)
        return 0; /* filter type None */
    if (!pf_is_bayer(im->pf))
        return grey8(im, (U32)(r - 1), (U32)y);
    U32 rgb[3];
    pixel_rgb16(im, (U32)((r - 1) / 3), (U32)y, rgb);
    return (U8)(rgb[(r - 1) % 3] >> 8);
}

static void write_png(const img_t *im, U8 *out, size_t size)
{
    (void)size;
    pthread_once(&crc_once, crc_init);
    static const U8 sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    U8 *q = out;
    memcpy(q, sig, 8);
    q += 8;
    put32be(q, 13);
    memcpy(q + 4, "IHDR", 4);
    put32be(q + 8, im->w);
    put32be(q + 12, im->h);
    q[16] = 8;
    q[17] = pf_is_bayer(im->pf) ? 2 : 0;
    q[18] = q[19] = q[20] = 0;
    put32be(q + 21, crc32_buf(q + 4, 17));
    q += 25;
    size_t raw = png_raw_size(im);
    size_t zlen = 2 + raw + 5 * png_blocks(raw) + 4;
    put32be(q, (U32)zlen);
    memcpy(q + 4, "IDAT", 4);
    U8 *zp = q + 8;
    *zp++ = 0x78;
    *zp++ = 0x01;
    U32 a = 1, b = 0; /* adler32 */
    size_t left = raw, pos = 0;
    if (raw == 0) {
        *zp++ = 1;
        put16le(zp, 0);
        put16le(zp + 2, 0xFFFF);
        zp += 4;
    }
    while (left > 0) {
        size_t n = left > 65535 ? 65535 : left;
        *zp++ = (U8)(left == n ? 1 : 0);
        put16le(zp, (U32)n);
        put16le(zp + 2, (U32)(~n & 0xFFFF));
        zp += 4;
        for (size_t i = 0; i < n; i++, pos++) {
            U8 byte = png_raw_byte(im, pos);
            *zp++ = byte;
            a = (a + byte) % 65521;
            b = (b + a) % 65521;
        }
        left -= n;
    }
    put32be(zp, (b << 16) | a);
    zp += 4;
    put32be(zp, crc32_buf(q + 4, 4 + zlen));
    q = zp + 4;
    put32be(q, 0);
    memcpy(q + 4, "IEND", 4);
    put32be(q + 8, crc32_buf(q + 4, 4));
}

/* ================================================================ PSD: uncompressed Photoshop file, 8-bit grey or RGB */

static size_t size_psd(const img_t *im) { return 26 + 4 + 4 + 4 + 2 + (size_t)im->w * im->h * channels(im); }

static void put16be(U8 *p, U32 v) { p[0] = (U8)(v >> 8); p[1] = (U8)v; }

static void write_psd(const img_t *im, U8 *out, size_t size) /* header, empty sections, raw planar channels */
{
    U32 ch = (U32)channels(im);
    memset(out, 0, size);
    memcpy(out, "8BPS", 4);
    put16be(out + 4, 1);  /* version */
    put16be(out + 12, ch); /* channels (after 6 reserved bytes) */
    put32be(out + 14, im->h);
    put32be(out + 18, im->w);
    put16be(out + 22, 8);             /* bits per channel */
    put16be(out + 24, ch == 3 ? 3 : 1); /* colour mode: RGB / grayscale */
    /* 26: colour mode data, image resources, layer and mask info: three empty sections (length 0) */
    put16be(out + 38, 0); /* image data: raw */
    U8 *d = out + 40;
    for (U32 k = 0; k < ch; k++)
        for (U32 y = 0; y < im->h; y++)
            for (U32 x = 0; x < im->w; x++) {
                if (ch == 1) {
                    *d++ = grey8(im, x, y);
                } else {
                    U32 rgb[3];
                    pixel_rgb16(im, x, y, rgb);
                    *d++ = (U8)(rgb[k] >> 8);
                }
            }
}

/* ================================================================ JPEG: baseline (SOF0), libm-free encoder
 *
 * JFIF, 8-bit grey (1 component) or YCbCr 4:4:4 (3 components, interleaved), one flat quantisation table
 * (2: near-lossless), and Huffman tables of fixed code lengths (DC: 12 categories x 4 bits, AC: 162 symbols
 * x 8 bits) - valid for any decoder, simpler than the Annex K tables.  Edge blocks repeat the last pixel. */

#define JPEG_Q 2

static double cos_(double x) /* libm-free cosine */
{
    const double two_pi = 6.283185307179586;
    while (x > 3.141592653589793)
        x -= two_pi;
    while (x < -3.141592653589793)
        x += two_pi;
    double term = 1.0, sum = 1.0, x2 = x * x;
    for (int i = 1; i < 30; i++) {
        term *= -x2 / ((2 * i - 1) * (2 * i));
        sum += term;
    }
    return sum;
}

static double dct_t[8][8]; /* C(u)/2 * cos((2x+1) u pi / 16) */
static U8 zigzag[64];     /* zigzag index -> natural index */
static U8 ac_code_of[256];
static pthread_once_t jpeg_once = PTHREAD_ONCE_INIT;
static void jpeg_init(void)
{
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < 8; x++)
            dct_t[u][x] = (u ? 0.5 : 0.3535533905932738) * cos_((2 * x + 1) * u * 3.141592653589793 / 16.0);
    int i = 0;
    for (int sum = 0; sum < 15; sum++) /* walk the anti-diagonals, alternating direction */
        for (int k = 0; k <= sum; k++) {
            int a = (sum & 1) ? k : sum - k; /* row */
            int b = sum - a;
            if (a < 8 && b < 8)
                zigzag[i++] = (U8)(a * 8 + b);
        }
    /* AC symbols: 0x00 EOB, 0xF0 ZRL, then (run << 4) | size for run 0..15, size 1..10; code = index */
    int n = 0;
    ac_code_of[0x00] = (U8)n++;
    ac_code_of[0xF0] = (U8)n++;
    for (int run = 0; run < 16; run++)
        for (int size = 1; size <= 10; size++)
            ac_code_of[(run << 4) | size] = (U8)n++;
}

typedef struct {
    U8 *out; /* NULL: count only */
    size_t n;
    U32 acc;
    int bits;
} jsink_t;

static void j_byte(jsink_t *s, U8 b)
{
    if (s->out)
        s->out[s->n] = b;
    s->n++;
}
static void j_bytes(jsink_t *s, const U8 *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        j_byte(s, p[i]);
}
static void j_bits(jsink_t *s, U32 code, int len) /* entropy-coded data: 0xFF is followed by a stuffed 0 */
{
    for (int i = len - 1; i >= 0; i--) {
        s->acc = (s->acc << 1) | ((code >> i) & 1u);
        if (++s->bits == 8) {
            j_byte(s, (U8)s->acc);
            if ((s->acc & 0xFF) == 0xFF)
                j_byte(s, 0);
            s->acc = 0;
            s->bits = 0;
        }
    }
}
static void j_flush(jsink_t *s)
{
    while (s->bits)
        j_bits(s, 1, 1); /* pad with 1-bits */
}

static int j_category(int v)
{
    int a = v < 0 ? -v : v, c = 0;
    while (a) {
        c++;
        a >>= 1;
    }
    return c;
}
static void j_value(jsink_t *s, int v, int cat)
{
    if (cat)
        j_bits(s, (U32)(v >= 0 ? v : v + (1 << cat) - 1), cat);
}

/* one 8x8 block of level-shifted samples: DCT, quantise, code; *pred is the component's DC predictor */
static void j_block(jsink_t *s, const double blk[64], int *pred)
{
    double tmp[64];
    int q[64];
    for (int u = 0; u < 8; u++) /* rows: tmp[y][u] */
        for (int y = 0; y < 8; y++) {
            double a = 0;
            for (int x = 0; x < 8; x++)
                a += dct_t[u][x] * blk[y * 8 + x];
            tmp[y * 8 + u] = a;
        }
    for (int v = 0; v < 8; v++)
        for (int u = 0; u < 8; u++) {
            double a = 0;
            for (int y = 0; y < 8; y++)
                a += dct_t[v][y] * tmp[y * 8 + u];
            q[v * 8 + u] = (int)rnd(a / JPEG_Q);
        }
    int dc = q[0], diff = dc - *pred, cat = j_category(diff);
    *pred = dc;
    j_bits(s, (U32)cat, 4);
    j_value(s, diff, cat);
    int run = 0;
    for (int i = 1; i < 64; i++) {
        int v = q[zigzag[i]];
        if (v == 0) {
            run++;
            continue;
        }
        while (run > 15) {
            j_bits(s, ac_code_of[0xF0], 8);
            run -= 16;
        }
        int c = j_category(v);
        if (c > 10) { /* cannot happen with JPEG_Q 2 and 8-bit samples; clamp to stay baseline */
            v = v < 0 ? -1023 : 1023;
            c = 10;
        }
        j_bits(s, ac_code_of[(run << 4) | c], 8);
        j_value(s, v, c);
        run = 0;
    }
    if (run)
        j_bits(s, ac_code_of[0x00], 8);
}

static size_t jpeg_encode(const img_t *im, U8 *out)
{
    pthread_once(&jpeg_once, jpeg_init);
    jsink_t s = {out, 0, 0, 0};
    int nc = (int)channels(im);
    static const U8 soi_app0[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
    j_bytes(&s, soi_app0, sizeof soi_app0);
    U8 dqt[5 + 64] = {0xFF, 0xDB, 0, 67, 0};
    memset(dqt + 5, JPEG_Q, 64);
    j_bytes(&s, dqt, sizeof dqt);
    U8 sof[19] = {0xFF, 0xC0, 0, (U8)(8 + 3 * nc), 8, (U8)(im->h >> 8), (U8)im->h, (U8)(im->w >> 8), (U8)im->w, (U8)nc};
    for (int k = 0; k < nc; k++) {
        sof[10 + 3 * k] = (U8)(k + 1);
        sof[11 + 3 * k] = 0x11;
        sof[12 + 3 * k] = 0;
    }
    j_bytes(&s, sof, 10 + 3 * (size_t)nc);
    /* DHT: DC table 0 (12 codes of 4 bits), AC table 0 (162 codes of 8 bits) */
    U8 dht[4 + 1 + 16 + 12 + 1 + 16 + 162];
    size_t len = 2 + 1 + 16 + 12 + 1 + 16 + 162;
    memset(dht, 0, sizeof dht);
    dht[0] = 0xFF;
    dht[1] = 0xC4;
    dht[2] = (U8)(len >> 8);
    dht[3] = (U8)len;
    U8 *d = dht + 4;
    *d++ = 0x00;
    d[3] = 12; /* BITS[4] */
    d += 16;
    for (int i = 0; i < 12; i++)
        *d++ = (U8)i;
    *d++ = 0x10;
    d[7] = 162; /* BITS[8] */
    d += 16;
    for (int sym = 0; sym < 256; sym++) /* values in code order */
        if (sym == 0x00 || sym == 0xF0 || ((sym & 15) >= 1 && (sym & 15) <= 10))
            d[ac_code_of[sym]] = (U8)sym;
    j_bytes(&s, dht, sizeof dht);
    U8 sos[14] = {0xFF, 0xDA, 0, (U8)(6 + 2 * nc), (U8)nc};
    for (int k = 0; k < nc; k++) {
        sos[5 + 2 * k] = (U8)(k + 1);
        sos[6 + 2 * k] = 0x00;
    }
    size_t p = 5 + 2 * (size_t)nc;
    sos[p] = 0;
    sos[p + 1] = 63;
    sos[p + 2] = 0;
    j_bytes(&s, sos, p + 3);
    int pred[3] = {0, 0, 0};
    double blk[3][64];
    for (U32 by = 0; by < im->h; by += 8)
        for (U32 bx = 0; bx < im->w; bx += 8) {
            for (U32 y = 0; y < 8; y++)
                for (U32 x = 0; x < 8; x++) {
                    U32 px = bx + x < im->w ? bx + x : im->w - 1, py = by + y < im->h ? by + y : im->h - 1;
                    if (nc == 1) {
                        blk[0][y * 8 + x] = (double)grey8(im, px, py) - 128.0;
                    } else {
                        U8 c[3];
                        put_rgb8(im, px, py, c, 0);
                        double r = c[0], g = c[1], b = c[2];
                        blk[0][y * 8 + x] = 0.299 * r + 0.587 * g + 0.114 * b - 128.0;
                        blk[1][y * 8 + x] = -0.168736 * r - 0.331264 * g + 0.5 * b;
                        blk[2][y * 8 + x] = 0.5 * r - 0.418688 * g - 0.081312 * b;
                    }
                }
            for (int k = 0; k < nc; k++)
                j_block(&s, blk[k], &pred[k]);
        }
    j_flush(&s);
    j_byte(&s, 0xFF);
    j_byte(&s, 0xD9);
    return s.n;
}

static size_t size_jpeg(const img_t *im) { return jpeg_encode(im, NULL); }
static void write_jpeg(const img_t *im, U8 *out, size_t size)
{
    (void)size;
    jpeg_encode(im, out);
}

/* ================================================================ the format table, PxLFormatImage */

typedef struct {
    U32 fmt;
    size_t (*size)(const img_t *im);
    void (*write)(const img_t *im, U8 *out, size_t size); /* out: size bytes (= size(im)) */
} format_desc_t;

/* unknown formats are missing: ApiNotSupportedError */
static const format_desc_t format_table[] = {
    {IMAGE_FORMAT_RAW_MONO8, size_mono8, write_mono8},
    {IMAGE_FORMAT_RAW_RGB24, size_rgb24, write_rgb24_dib},
    {IMAGE_FORMAT_RAW_RGB24_NON_DIB, size_rgb24, write_rgb24},
    {IMAGE_FORMAT_RAW_BGR24, size_rgb24, write_bgr24},
    {IMAGE_FORMAT_RAW_RGB48, size_rgb48, write_rgb48},
    {IMAGE_FORMAT_BMP, size_bmp, write_bmp},
    {IMAGE_FORMAT_TIFF, size_tiff, write_tiff},
    {IMAGE_FORMAT_PNG, size_png, write_png},
    {IMAGE_FORMAT_PSD, size_psd, write_psd},
    {IMAGE_FORMAT_JPEG, size_jpeg, write_jpeg},
};

static const format_desc_t *find_format(U32 fmt)
{
    for (size_t i = 0; i < sizeof format_table / sizeof format_table[0]; i++)
        if (format_table[i].fmt == fmt)
            return &format_table[i];
    return NULL;
}

PXL_RETURN_CODE impl_FormatImage(const void *src, const FRAME_DESC *d, U32 fmt, void *dst, U32 *pDstSize)
{
    if (!d || !pDstSize)
        return ApiNullPointerError;
    float pax = d->PixelAddressingValue.fHorizontal, pay = d->PixelAddressingValue.fVertical;
    if (!(pax >= 1.0f) || !(pay >= 1.0f) || !(d->Roi.fWidth >= 1.0f) || !(d->Roi.fHeight >= 1.0f) ||
        !(d->Roi.fWidth <= 65536.0f) || !(d->Roi.fHeight <= 65536.0f))
        return ApiInvalidParameterError;
    if (!(d->PixelFormat.fValue >= 0.0f && d->PixelFormat.fValue <= 64.0f))
        return ApiUnsupportedPixelFormatError;
    img_t im;
    im.src = src;
    im.w = (U32)(d->Roi.fWidth / pax);
    im.h = (U32)(d->Roi.fHeight / pay);
    im.pf = (U32)d->PixelFormat.fValue;
    im.bpp = (U32)pf_bpp(im.pf);
    if (im.bpp == 0 || (float)im.pf != d->PixelFormat.fValue)
        return ApiUnsupportedPixelFormatError;
    if (im.w == 0 || im.h == 0)
        return ApiInvalidParameterError;
    const format_desc_t *f = find_format(fmt);
    if (!f)
        return ApiNotSupportedError; /* unknown formats */
    if (!src && fmt == IMAGE_FORMAT_JPEG) /* its size is known only by encoding */
        return ApiNullPointerError;
    size_t need = f->size(&im);
    if (need > 0xFFFFFFFFu)
        return ApiInvalidParameterError;
    if (!dst) {
        *pDstSize = (U32)need;
        return ApiSuccess;
    }
    if (!src)
        return ApiNullPointerError;
    if (*pDstSize < need) {
        *pDstSize = (U32)need;
        return ApiBufferTooSmall;
    }
    f->write(&im, dst, need);
    *pDstSize = (U32)need;
    return ApiSuccess;
}
