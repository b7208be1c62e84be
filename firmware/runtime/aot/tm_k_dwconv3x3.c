/* tm_k_dwconv3x3.c - int8 DEPTHWISE_CONV_2D for the common shape: 3x3 filter, depth
 * multiplier 1, stride 1 or 2, padding <= 1 (tm_k_dwconv.h). An output row is cut into
 * blocks (pairs of pixels, then a last single); a block runs over every channel with
 * no setup per channel: its input columns sit at fixed offsets from three row pointers
 * that step one byte per channel, and a channel's weights and requantization constants
 * are one record read in order. Blocks touching the left or right padding have their
 * own copies (the padding column is in_zp, not loaded); padding rows read a row of
 * in_zp in the scratch, so every block has the same code with or without them. The inner
 * products come from tm_aot_dot.h (tm_dw3_*: SMLAD pairs on the Arm DSP variant, plain
 * C in the reference); the loop order is the same for both and is mirrored by
 * access.dwconv3x3 for the memory plan. */
#include "tm_aot.h"

#define TM_AOT_DOT_IMPL TM_AOT_IMPL_DWCONV
#include "tm_aot_dot.h"
#include "tm_k_dwconv.h"

#if defined(__GNUC__) || defined(__clang__)
#define TM_DW3_NOINLINE __attribute__((noinline))
#else
#define TM_DW3_NOINLINE
#endif

/* The layer's constants, copied from the parameters into a local once per block:
 * int8 stores may alias *p, which would reload every field per channel. */
typedef struct {
    size_t cs;                        /* channels = pixel stride */
    int32_t zp, out_zp, lo, hi;       /* zp: input zero point (padding columns) */
} tm_dw3_geo_t;

/* Requantized output of one channel; wr: its record (tm_dwconv3x3_params_t.chan). */
TM_AOT_INLINE int32_t tm_dw3_rq(const tm_dw3_geo_t *g, const int32_t *wr, int32_t acc,
                                const int rq)
{
    if (rq == 0) {
        return tm_aot_requant(acc, wr[7], wr[9], g->out_zp, g->lo, g->hi);
    }
    if (rq == 2) {
        return tm_dw_sat8(tm_dw_rq1(acc, wr[7], wr[8], wr[9]));
    }
    return tm_aot_clamp(tm_dw_rq1(acc, wr[7], wr[8], wr[9]), g->lo, g->hi);
}

/* Column k of a block (k - j0 columns right of the row pointer q), or in_zp where bit k
 * of the padding mask m is set. Constant k, j0, m in the specialized blocks. */
TM_AOT_INLINE int32_t tm_dw3_col(const int8_t *q, int k, int j0, int m, size_t cs, int32_t zp)
{
    const int d = k - j0;
    if ((m >> k) & 1) {
        return zp;
    }
    return d == 0 ? q[0] : d == 1 ? q[cs] : d == 2 ? tm_dw3_ld2(q, cs)
         : d == 3 ? q[3 * cs] : tm_dw3_ld4(q, cs);
}

/* One block of an output row, every channel. a: the input column of the block's column
 * 0 (may be -1: padding); m: the block's padding columns (bit k: column a + k is
 * outside); n: the block's kind, 1: one output (3 columns), 2: two at stride 1 (4
 * columns), 3: two at stride 2 (5 columns); rb: the kernel rows at column 0. */
TM_AOT_INLINE void tm_dw3_blk(const tm_dwconv3x3_params_t *p, const int8_t *const *rb,
                              int32_t a, int m, int8_t *y, const int n, const int rq)
{
    const int32_t nc = p->c;
    const int j0 = (m & 1) ? ((m & 2) ? 2 : 1) : 0;    /* first column read */
    const size_t off = (size_t)(a + j0) * (size_t)nc;
    const int8_t *q0 = rb[0] + off, *q1 = rb[1] + off, *q2 = rb[2] + off;
    const int32_t *wr = p->chan;
    int8_t *const yend = y + nc;
    tm_dw3_geo_t g;
    const size_t cs = (size_t)nc;
    g.cs = cs;
    g.zp = p->in_zp;
    g.out_zp = p->out_zp;
    g.lo = p->act_min;
    g.hi = p->act_max;
    do {
        const int32_t *const rec = wr;
        const tm_dw3w_t wv = tm_dw3_wprep(rec);
        const int32_t zp = g.zp;
        if (n == 3) {
            int32_t a0 = rec[6], a1 = rec[6], x;
            x = tm_dw3_col(q0, 2, j0, m, cs, zp);
            a0 = tm_dw3_mac3(tm_dw3_col(q0, 0, j0, m, cs, zp), tm_dw3_col(q0, 1, j0, m, cs, zp), x,
                             &wv, 0, a0);
            a1 = tm_dw3_mac3(x, tm_dw3_col(q0, 3, j0, m, cs, zp), tm_dw3_col(q0, 4, j0, m, cs, zp),
                             &wv, 0, a1);
            x = tm_dw3_col(q1, 2, j0, m, cs, zp);
            a0 = tm_dw3_mac3(tm_dw3_col(q1, 0, j0, m, cs, zp), tm_dw3_col(q1, 1, j0, m, cs, zp), x,
                             &wv, 1, a0);
            a1 = tm_dw3_mac3(x, tm_dw3_col(q1, 3, j0, m, cs, zp), tm_dw3_col(q1, 4, j0, m, cs, zp),
                             &wv, 1, a1);
            x = tm_dw3_col(q2, 2, j0, m, cs, zp);
            a0 = tm_dw3_mac3(tm_dw3_col(q2, 0, j0, m, cs, zp), tm_dw3_col(q2, 1, j0, m, cs, zp), x,
                             &wv, 2, a0);
            a1 = tm_dw3_mac3(x, tm_dw3_col(q2, 3, j0, m, cs, zp), tm_dw3_col(q2, 4, j0, m, cs, zp),
                             &wv, 2, a1);
            a0 = tm_dw3_rq(&g, rec, a0, rq);     /* both before the stores (aliasing) */
            a1 = tm_dw3_rq(&g, rec, a1, rq);
            y[0] = (int8_t)a0;
            y[cs] = (int8_t)a1;
        } else if (n == 2) {
            int32_t a0 = rec[6], a1 = rec[6];
            tm_dw3c_t c;
            c = tm_dw3_init(tm_dw3_col(q0, 0, j0, m, cs, zp), tm_dw3_col(q0, 1, j0, m, cs, zp));
            tm_dw3_pair(&c, tm_dw3_col(q0, 2, j0, m, cs, zp), tm_dw3_col(q0, 3, j0, m, cs, zp),
                        &wv, 0, &a0, &a1);
            c = tm_dw3_init(tm_dw3_col(q1, 0, j0, m, cs, zp), tm_dw3_col(q1, 1, j0, m, cs, zp));
            tm_dw3_pair(&c, tm_dw3_col(q1, 2, j0, m, cs, zp), tm_dw3_col(q1, 3, j0, m, cs, zp),
                        &wv, 1, &a0, &a1);
            c = tm_dw3_init(tm_dw3_col(q2, 0, j0, m, cs, zp), tm_dw3_col(q2, 1, j0, m, cs, zp));
            tm_dw3_pair(&c, tm_dw3_col(q2, 2, j0, m, cs, zp), tm_dw3_col(q2, 3, j0, m, cs, zp),
                        &wv, 2, &a0, &a1);
            a0 = tm_dw3_rq(&g, rec, a0, rq);     /* both before the stores (aliasing) */
            a1 = tm_dw3_rq(&g, rec, a1, rq);
            tm_dw3_st2(y, cs, a0, a1);
        } else {
            int32_t acc = rec[6];
            acc = tm_dw3_mac3(tm_dw3_col(q0, 0, j0, m, cs, zp), tm_dw3_col(q0, 1, j0, m, cs, zp),
                              tm_dw3_col(q0, 2, j0, m, cs, zp), &wv, 0, acc);
            acc = tm_dw3_mac3(tm_dw3_col(q1, 0, j0, m, cs, zp), tm_dw3_col(q1, 1, j0, m, cs, zp),
                              tm_dw3_col(q1, 2, j0, m, cs, zp), &wv, 1, acc);
            acc = tm_dw3_mac3(tm_dw3_col(q2, 0, j0, m, cs, zp), tm_dw3_col(q2, 1, j0, m, cs, zp),
                              tm_dw3_col(q2, 2, j0, m, cs, zp), &wv, 2, acc);
            *y = (int8_t)tm_dw3_rq(&g, rec, acc, rq);
        }
        ++q0;
        ++q1;
        ++q2;
        wr += TM_DW3_REC;
    } while (++y != yend);
}

/* Any block, any padding mask and requantization form (the uncommon ones: tiny images,
 * TFLM's two roundings, a clamp other than int8): columns by index, padding ones
 * in_zp. */
static TM_DW3_NOINLINE void tm_dw3_blk_any(const tm_dwconv3x3_params_t *p,
                                           const int8_t *const *rb, int32_t a, int m,
                                           int8_t *y, int n)
{
    const int32_t nc = p->c, ncols = n + 2, nout = n == 1 ? 1 : 2, step = n == 3 ? 2 : 1;
    const size_t cs = (size_t)nc;
    const int32_t *wr = p->chan;
    int32_t x[3][5];
    size_t off[5];
    int32_t c, k, ky, j;
    tm_dw3_geo_t g;
    g.cs = cs;
    g.zp = p->in_zp;
    g.out_zp = p->out_zp;
    g.lo = p->act_min;
    g.hi = p->act_max;
    for (k = 0; k < ncols; ++k) {
        off[k] = ((m >> k) & 1) ? 0 : (size_t)(a + k) * cs;
    }
    for (c = 0; c < nc; ++c, wr += TM_DW3_REC) {
        const int32_t *const rec = wr;
        const tm_dw3w_t wv = tm_dw3_wprep(rec);
        int32_t acc[2];
        for (ky = 0; ky < 3; ++ky) {
            for (k = 0; k < ncols; ++k) {
                x[ky][k] = ((m >> k) & 1) ? g.zp : (int32_t)rb[ky][off[k] + (size_t)c];
            }
        }
        for (j = 0; j < nout; ++j) {
            const int32_t x0 = j * step;
            acc[j] = rec[6];
            for (ky = 0; ky < 3; ++ky) {
                acc[j] = tm_dw3_mac3(x[ky][x0], x[ky][x0 + 1], x[ky][x0 + 2], &wv, ky, acc[j]);
            }
        }
        for (j = 0; j < nout; ++j) {
            acc[j] = p->rq == 0 ? tm_dw3_rq(&g, rec, acc[j], 0)
                   : p->rq == 1 ? tm_dw3_rq(&g, rec, acc[j], 1) : tm_dw3_rq(&g, rec, acc[j], 2);
        }
        for (j = 0; j < nout; ++j) {
            y[(size_t)j * cs + (size_t)c] = (int8_t)acc[j];
        }
    }
}

/* The block kernels of the common case (single rounding, int8 clamp):
 * a specialized copy for each common padding mask (constant m). */
typedef void (*tm_dw3_blk_fn)(const tm_dwconv3x3_params_t *p, const int8_t *const *rb,
                              int32_t a, int8_t *y);
#define TM_DW3_BLK(name, mm, n) \
    static TM_DW3_NOINLINE void name(const tm_dwconv3x3_params_t *p, const int8_t *const *rb, \
                                     int32_t a, int8_t *y) \
    { \
        tm_dw3_blk(p, rb, a, mm, y, n, 2); \
    }
TM_DW3_BLK(tm_dw3_p0, 0, 2)
TM_DW3_BLK(tm_dw3_p1, 1, 2)
TM_DW3_BLK(tm_dw3_p8, 8, 2)
TM_DW3_BLK(tm_dw3_s0, 0, 1)
TM_DW3_BLK(tm_dw3_s1, 1, 1)
TM_DW3_BLK(tm_dw3_s4, 4, 1)
TM_DW3_BLK(tm_dw3_t0, 0, 3)
TM_DW3_BLK(tm_dw3_t1, 1, 3)
TM_DW3_BLK(tm_dw3_t16, 16, 3)

/* Block of kind n (tm_dw3_blk) from input column a with padding mask m. */
static void tm_dw3_block(const tm_dwconv3x3_params_t *p, const int8_t *const *rb,
                         int32_t a, int m, int8_t *y, int n)
{
    tm_dw3_blk_fn fn = NULL;
    if (p->rq == 2) {
        if (n == 3) {
            fn = m == 0 ? tm_dw3_t0 : m == 1 ? tm_dw3_t1 : m == 16 ? tm_dw3_t16 : NULL;
        } else if (n == 2) {
            fn = m == 0 ? tm_dw3_p0 : m == 1 ? tm_dw3_p1 : m == 8 ? tm_dw3_p8 : NULL;
        } else {
            fn = m == 0 ? tm_dw3_s0 : m == 1 ? tm_dw3_s1 : m == 4 ? tm_dw3_s4 : NULL;
        }
    }
    if (fn != NULL) {
        fn(p, rb, a, y);
    } else {
        tm_dw3_blk_any(p, rb, a, m, y, n);
    }
}

/* Padding mask of the ncols columns from input column a. */
static int tm_dw3_mask(int32_t a, int ncols, int32_t in_w)
{
    int k, m = 0;
    for (k = 0; k < ncols; ++k) {
        m |= (a + k < 0 || a + k >= in_w) ? 1 << k : 0;
    }
    return m;
}

/* Output row oy of one image: blocks left to right (pairs of pixels, then a last
 * single), each over every channel. */
static void tm_dw3_out_row(const tm_dwconv3x3_params_t *p, const int8_t *img,
                           const int8_t *zp_row, int8_t *oimg, int32_t oy)
{
    const size_t cs = (size_t)p->c, row = (size_t)p->in_w * cs;
    const int32_t s = p->stride, iy0 = oy * s - p->pad_h, ow = p->out_w;
    const int8_t *rb[3];
    int ky;
    int32_t ox = 0;
    for (ky = 0; ky < 3; ++ky) {
        rb[ky] = iy0 + ky >= 0 && iy0 + ky < p->in_h ? img + (size_t)(iy0 + ky) * row : zp_row;
    }
    oimg += (size_t)oy * (size_t)ow * cs;
    for (; ox + 2 <= ow; ox += 2) {
        const int32_t a = ox * s - p->pad_w;
        tm_dw3_block(p, rb, a, tm_dw3_mask(a, s + 3, p->in_w), oimg + (size_t)ox * cs, s + 1);
    }
    for (; ox < ow; ++ox) {
        const int32_t a = ox * s - p->pad_w;
        const int m = tm_dw3_mask(a, 3, p->in_w);
        tm_dw3_block(p, rb, a, m, oimg + (size_t)ox * cs, 1);
    }
}

void tm_k_dwconv_3x3(const tm_dwconv3x3_params_t *p, const int8_t *in, int8_t *out,
                     int8_t *scratch)
{
    const size_t isz = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->c;
    const size_t osz = (size_t)p->out_h * (size_t)p->out_w * (size_t)p->c;
    int32_t b, oy;
    memset(scratch, p->in_zp, (size_t)p->in_w * (size_t)p->c);   /* the padding row */
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (size_t)b * isz;
        int8_t *oimg = out + (size_t)b * osz;
        if (!p->reverse) {
            for (oy = 0; oy < p->out_h; ++oy) {
                tm_dw3_out_row(p, img, scratch, oimg, oy);
            }
        } else {
            for (oy = p->out_h - 1; oy >= 0; --oy) {
                tm_dw3_out_row(p, img, scratch, oimg, oy);
            }
        }
    }
}
