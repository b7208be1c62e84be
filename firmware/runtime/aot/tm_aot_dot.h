/* tm_aot_dot.h - the inner products one kernel family uses, by its variant.
 *
 * A kernel file defines TM_AOT_DOT_IMPL (its family's TM_AOT_IMPL_<OP>, see
 * tm_aot.h) and includes this header once; its loops then call tm_dot_s8,
 * tm_dot2_s8, tm_dot2x2_s8, tm_dw_mac4 and tm_store4 only. The kernel's loop
 * order and arithmetic stay in one file for every ISA; a new ISA adds its own
 * tm_aot_<isa>.h and a branch here, without touching the references. */
#if TM_AOT_DOT_IMPL == TM_AOT_IMPL_ARM_DSP
#include "tm_aot_arm_dsp.h"
#define tm_dot_s8 tm_dsp_dot_s8
#define tm_dot2_s8 tm_dsp_dot2_s8
#define tm_dot2x2_s8 tm_dsp_dot2x2_s8
#define tm_dw_mac4 tm_dsp_dw_mac4
#define tm_store4 tm_dsp_store4
#else
#include "tm_aot_ref.h"
#define tm_dot_s8 tm_ref_dot_s8
#define tm_dot2_s8 tm_ref_dot2_s8
#define tm_dot2x2_s8 tm_ref_dot2x2_s8
#define tm_dw_mac4 tm_ref_dw_mac4
#define tm_store4 tm_ref_store4
#endif
