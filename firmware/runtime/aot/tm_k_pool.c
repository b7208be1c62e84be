/* Average and max pooling, int8 NHWC (TFLM reference_integer_ops). */
#include "tm_k_misc.h"

static int32_t tm_pool_max_i(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t tm_pool_min_i(int32_t a, int32_t b) { return a < b ? a : b; }

/* Clip the window at (oy, ox) to the input; returns the clipped bounds. */
static void tm_pool_window(const tm_pool_params_t *p, int32_t oy, int32_t ox,
                           int32_t *y0, int32_t *y1, int32_t *x0, int32_t *x1)
{
    const int32_t iy = oy * p->stride_h - p->pad_h;
    const int32_t ix = ox * p->stride_w - p->pad_w;
    *y0 = iy + tm_pool_max_i(0, -iy);
    *y1 = iy + tm_pool_min_i(p->filter_h, p->in_h - iy);
    *x0 = ix + tm_pool_max_i(0, -ix);
    *x1 = ix + tm_pool_min_i(p->filter_w, p->in_w - ix);
}

void tm_k_avg_pool_s8(const tm_pool_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t c_n = p->channels;
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * c_n;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                int32_t y0, y1, x0, x1, count;
                tm_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);
                count = (y1 - y0) * (x1 - x0);
                for (c = 0; c < c_n; ++c) {
                    int32_t acc = 0;
                    for (y = y0; y < y1; ++y) {
                        for (x = x0; x < x1; ++x) {
                            acc += img[(y * p->in_w + x) * c_n + c];
                        }
                    }
                    if (count > 0) {
                        /* Round half away from zero, C truncating division. */
                        acc = acc > 0 ? (acc + count / 2) / count
                                      : (acc - count / 2) / count;
                    }
                    acc = tm_pool_max_i(acc, p->act_min);
                    acc = tm_pool_min_i(acc, p->act_max);
                    *out++ = (int8_t)acc;
                }
            }
        }
    }
}

void tm_k_max_pool_s8(const tm_pool_params_t *p, const int8_t *in, int8_t *out)
{
    const int32_t c_n = p->channels;
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * c_n;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                int32_t y0, y1, x0, x1;
                tm_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);
                for (c = 0; c < c_n; ++c) {
                    int32_t m = -128;
                    for (y = y0; y < y1; ++y) {
                        for (x = x0; x < x1; ++x) {
                            m = tm_pool_max_i(m, img[(y * p->in_w + x) * c_n + c]);
                        }
                    }
                    m = tm_pool_max_i(m, p->act_min);
                    m = tm_pool_min_i(m, p->act_max);
                    *out++ = (int8_t)m;
                }
            }
        }
    }
}
