/* aot_fx_main.c - drives the fixed-point helpers of tm_aot_fx.h for
 * tests/host/test_aot_fx.py. Reads lines "<op> <args...>" from stdin and prints
 * one integer result per line. Built with host gcc under UBSan. */
#include <stdio.h>
#include <stdlib.h>

#include "tm_aot.h"

int main(void)
{
    char op[16];
    long long a[6];
    while (scanf("%15s", op) == 1) {
        int n = 0, want = 0;
        long long r = 0;
        switch (op[0]) {
        case 'S': want = 2; break;   /* srdhm a b */
        case 'R': want = 2; break;   /* rdpot x exponent */
        case 'L': want = 2; break;   /* sat_shl x exponent */
        case 'H': want = 2; break;   /* half_sum a b */
        case 'M': want = 3; break;   /* mul_by_qm x m shift */
        case 'm': want = 3; break;   /* mul_by_qm_lt1 x m shift */
        case 'Q': want = 6; break;   /* requant acc m shift zp lo hi */
        case 'E': want = 2; break;   /* exp_neg a int_bits */
        case 'O': want = 1; break;   /* one_over_one_plus_x a */
        case 'N': want = 1; break;   /* one_minus_x_over_one_plus_x a */
        case 'T': want = 1; break;   /* tanh_q4 a */
        case 'F': want = 6; break;   /* requant_r2 acc m shift zp lo hi */
        default: return 2;
        }
        for (n = 0; n < want; ++n) {
            if (scanf("%lld", &a[n]) != 1) {
                return 3;
            }
        }
        switch (op[0]) {
        case 'S': r = tm_aot_srdhm((int32_t)a[0], (int32_t)a[1]); break;
        case 'R': r = tm_aot_rdpot((int32_t)a[0], (int)a[1]); break;
        case 'L': r = tm_aot_sat_shl((int32_t)a[0], (int)a[1]); break;
        case 'H': r = tm_aot_half_sum((int32_t)a[0], (int32_t)a[1]); break;
        case 'M': r = tm_aot_mul_by_qm((int32_t)a[0], (int32_t)a[1], (int)a[2]); break;
        case 'm': r = tm_aot_mul_by_qm_lt1((int32_t)a[0], (int32_t)a[1], (int)a[2]); break;
        case 'Q': r = tm_aot_requant((int32_t)a[0], (int32_t)a[1], (int)a[2], (int32_t)a[3],
                                     (int32_t)a[4], (int32_t)a[5]); break;
        case 'F': r = tm_aot_requant_r2((int32_t)a[0], (int32_t)a[1], (int)a[2], (int32_t)a[3],
                                        (int32_t)a[4], (int32_t)a[5]); break;
        case 'E': r = tm_aot_fx_exp_neg((int32_t)a[0], (int)a[1]); break;
        case 'O': r = tm_aot_fx_one_over_one_plus_x((int32_t)a[0]); break;
        case 'N': r = tm_aot_fx_one_minus_x_over_one_plus_x((int32_t)a[0]); break;
        case 'T': r = tm_aot_fx_tanh_q4((int32_t)a[0]); break;
        default: break;
        }
        printf("%lld\n", r);
    }
    return 0;
}
