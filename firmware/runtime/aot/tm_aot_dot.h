/* tm_aot_dot.h - the inner products one kernel family uses, by its variant.
 *
 * A kernel file defines TM_AOT_DOT_IMPL (its family's TM_AOT_IMPL_<OP>, see
 * tm_aot.h) and includes this header once; its loops then call tm_dot_s8,
 * tm_dot2_s8, tm_dot2x2_s8, tm_dw_mac4, tm_store4 and the conv/FC panel functions
 * (tm_xprep1/2, tm_pan2_quads/fill, tm_xpan2, tm_mm1_4/n, tm_mm2_4/n: 1 or 2 pixels x a group of output channels
 * over interleaved weights), and the 3x3 depthwise ones (tm_dw3_*, tm_dw_rq1,
 * tm_dw_sat8: tm_k_dwconv3x3.c) only. The kernel's loop
 * order and arithmetic stay in one file for every ISA; a new ISA adds its own
 * tm_aot_<isa>.h and a branch here, without touching the references. */
#if TM_AOT_DOT_IMPL == TM_AOT_IMPL_ARM_DSP
#include "tm_aot_arm_dsp.h"
#define tm_dot_s8 tm_dsp_dot_s8
#define tm_dot2_s8 tm_dsp_dot2_s8
#define tm_dot2x2_s8 tm_dsp_dot2x2_s8
#define tm_dw_mac4 tm_dsp_dw_mac4
#define tm_dw3c_t tm_dsp_dw3c_t
#define tm_dw3w_t tm_dsp_dw3w_t
#define tm_dw3_wprep tm_dsp_dw3_wprep
#define tm_dw3_init tm_dsp_dw3_init
#define tm_dw3_ld2 tm_dsp_dw3_ld2
#define tm_dw3_ld4 tm_dsp_dw3_ld4
#define tm_dw3_st2 tm_dsp_dw3_st2
#define tm_dw3_pair tm_dsp_dw3_pair
#define tm_dw3_mac3 tm_dsp_dw3_mac3
#define tm_dw_rq1 tm_dsp_dw_rq1
#define tm_dw_sat8 tm_dsp_dw_sat8
#define tm_store4 tm_dsp_store4
#define tm_xp2_t tm_dsp_xp2_t
#define tm_xp1_t tm_dsp_xp1_t
#define tm_xprep2 tm_dsp_xprep2
#define tm_xprep1 tm_dsp_xprep1
#define tm_pan2_quads tm_dsp_pan2_quads
#define tm_pan2_fill tm_dsp_pan2_fill
#define tm_xpan2 tm_dsp_xpan2
#define tm_mm2_4 tm_dsp_mm2_4
#define tm_mm2_n tm_dsp_mm2_n
#define tm_mm1_4 tm_dsp_mm1_4
#define tm_mm1s_4 tm_dsp_mm1s_4
#define tm_mm1s_n tm_dsp_mm1s_n
#define tm_mm1_n tm_dsp_mm1_n
#else
#include "tm_aot_ref.h"
#define tm_dot_s8 tm_ref_dot_s8
#define tm_dot2_s8 tm_ref_dot2_s8
#define tm_dot2x2_s8 tm_ref_dot2x2_s8
#define tm_dw_mac4 tm_ref_dw_mac4
#define tm_dw3c_t tm_ref_dw3c_t
#define tm_dw3w_t tm_ref_dw3w_t
#define tm_dw3_wprep tm_ref_dw3_wprep
#define tm_dw3_init tm_ref_dw3_init
#define tm_dw3_ld2 tm_ref_dw3_ld2
#define tm_dw3_ld4 tm_ref_dw3_ld4
#define tm_dw3_st2 tm_ref_dw3_st2
#define tm_dw3_pair tm_ref_dw3_pair
#define tm_dw3_mac3 tm_ref_dw3_mac3
#define tm_dw_rq1 tm_ref_dw_rq1
#define tm_dw_sat8 tm_ref_dw_sat8
#define tm_store4 tm_ref_store4
#define tm_xp2_t tm_ref_xp2_t
#define tm_xp1_t tm_ref_xp1_t
#define tm_xprep2 tm_ref_xprep2
#define tm_xprep1 tm_ref_xprep1
#define tm_pan2_quads tm_ref_pan2_quads
#define tm_pan2_fill tm_ref_pan2_fill
#define tm_xpan2 tm_ref_xpan2
#define tm_mm2_4 tm_ref_mm2_4
#define tm_mm2_n tm_ref_mm2_n
#define tm_mm1_4 tm_ref_mm1_4
#define tm_mm1s_4 tm_ref_mm1s_4
#define tm_mm1s_n tm_ref_mm1s_n
#define tm_mm1_n tm_ref_mm1_n
#endif
