/* tm_k_lstm.h - int8 UNIDIRECTIONAL_SEQUENCE_LSTM with an int16 cell state (TFLM's
 * integer LSTM: 8-bit activations and weights, 16-bit gates and cell), bit-exact
 * with TFLM's kernel. Each sequence (batch row) starts from the state TFLM resets
 * its variable tensors to: hidden = its zero point, cell = 0. */
#ifndef TM_K_LSTM_H
#define TM_K_LSTM_H

#include <stdint.h>

#define TM_LSTM_GATES 4 /* input, forget, cell, output (the .tflite's order) */

typedef struct {
    int32_t batches, steps, in_dim, units; /* batch-major: in [batches][steps][in_dim] */
    int32_t h_zp;                 /* hidden state (and output) zero point */
    const int8_t *w_in;           /* [4][units][in_dim] */
    const int8_t *w_rec;          /* [4][units][units] */
    const int32_t *b_in;          /* [4][units]: gate bias - in_zp * sum(w_in row), mod 2^32 */
    const int32_t *b_rec;         /* [4][units]: -h_zp * sum(w_rec row), mod 2^32 */
    int32_t in_mult[4], in_shift[4];   /* input FC -> Q3.12 int16 */
    int32_t rec_mult[4], rec_shift[4]; /* recurrent FC -> Q3.12 int16 */
    int32_t fc_mult, fc_shift;    /* forget gate * cell -> cell */
    int32_t ic_mult, ic_shift;    /* input gate * cell gate -> cell */
    int32_t oh_mult, oh_shift;    /* tanh(cell) * output gate -> int8 hidden */
    int32_t tanh_mult, tanh_shift; /* cell state -> tanh input (TFLM's multiplier, shift) */
    int32_t cell_clip;            /* > 0: clamp the cell to [-cell_clip, cell_clip] */
} tm_lstm_params_t;

/* `cell` (units int16) and `h0` (units int8) are scratch: the state at the start of
 * each sequence. `out` holds the hidden state of every step; step t reads step t-1's
 * row as its hidden state, so `out` must not overlap `in`. */
void tm_k_lstm_s8(const tm_lstm_params_t *p, const int8_t *in, int8_t *out, int16_t *cell,
                  int8_t *h0);

#endif /* TM_K_LSTM_H */
