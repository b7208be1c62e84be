/* tm_aot.h - shared conventions and fixed-point helpers of the AOT int8 kernels.
 *
 * The arithmetic matches TensorFlow Lite Micro's reference integer kernels bit
 * for bit (gemmlowp-style rounding, no single-rounding mode), so a model
 * compiled by tinyml.codegen.aot gives the same bytes as the TFLM runtime.
 * C99, header-only, no dependencies.
 */
#ifndef TM_AOT_H
#define TM_AOT_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "tm_aot_fx.h"

#if defined(__GNUC__) || defined(__clang__)
#define TM_AOT_ALIGNED(n) __attribute__((aligned(n)))
#else
#define TM_AOT_ALIGNED(n)
#endif

/* Kernel variants: which inner products (tm_aot_dot.h) each family uses.
 * TM_AOT_FORCE_PORTABLE selects the references everywhere. */
#define TM_AOT_IMPL_REF 0       /* portable C99: tm_aot_ref.h */
#define TM_AOT_IMPL_ARM_DSP 1   /* Cortex-M DSP extension (SXTB16/SMLAD): tm_aot_arm_dsp.h */

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(TM_AOT_FORCE_PORTABLE)
#define TM_AOT_DSP 1
#define TM_AOT_KERNEL_PATH "dsp"
#define TM_AOT_IMPL_CONV TM_AOT_IMPL_ARM_DSP
#define TM_AOT_IMPL_DWCONV TM_AOT_IMPL_ARM_DSP
#define TM_AOT_IMPL_FC TM_AOT_IMPL_ARM_DSP
#else
#define TM_AOT_DSP 0
#define TM_AOT_KERNEL_PATH "portable"
#endif
/* Families a variant does not provide fall back to their reference. */
#ifndef TM_AOT_IMPL_CONV
#define TM_AOT_IMPL_CONV TM_AOT_IMPL_REF
#endif
#ifndef TM_AOT_IMPL_DWCONV
#define TM_AOT_IMPL_DWCONV TM_AOT_IMPL_REF
#endif
#ifndef TM_AOT_IMPL_FC
#define TM_AOT_IMPL_FC TM_AOT_IMPL_REF
#endif

/* Per-layer profiling hooks around every op of the generated model. With
 * TM_ENABLE_PROFILE=1 the default reads the port counter (tm_port.h) into
 * tm_aot_profile_ticks[op] (defined in tm_rt_aot.c); a port may define its own
 * TM_PROFILE_BEGIN/END before this header instead. Off: they compile to nothing. */
#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE && !defined(TM_PROFILE_BEGIN)
extern uint32_t tm_aot_profile_ticks[];
uint64_t tm_port_counter(void);
#define TM_PROFILE_BEGIN(i) const uint64_t tm_prof_t0_##i = tm_port_counter()
#define TM_PROFILE_END(i) (tm_aot_profile_ticks[(i)] = (uint32_t)(tm_port_counter() - tm_prof_t0_##i))
#endif
#ifndef TM_PROFILE_BEGIN
#define TM_PROFILE_BEGIN(i) ((void)0)
#endif
#ifndef TM_PROFILE_END
#define TM_PROFILE_END(i) ((void)0)
#endif

#endif /* TM_AOT_H */
