/* tm_profile.h - per-layer profiling hooks for the AOT runtime.
 *
 * The generated model code brackets every op with TM_PROFILE_BEGIN(i) /
 * TM_PROFILE_END(i) (no-ops by default, see runtime/aot/tm_aot.h). A build
 * that wants the `layers` profile adds
 *     -D TM_ENABLE_PROFILE=1 -include tm_profile.h
 * and every op's counter delta lands in tm_aot_profile_ticks[i], in the
 * unit of tm_port_counter_unit(). Cost: two counter reads per op.
 */
#ifndef TM_PROFILE_H
#define TM_PROFILE_H

#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE

#include <stdint.h>

#include "tm_port.h"

#ifdef __cplusplus
extern "C" {
#endif
extern uint32_t tm_aot_profile_ticks[];   /* runtime/aot/tm_rt_aot.c */
extern uint64_t tm_profile_t0;            /* harness/tm_harness.c */
#ifdef __cplusplus
}
#endif

#define TM_PROFILE_BEGIN(i) (tm_profile_t0 = tm_port_counter())
#define TM_PROFILE_END(i) (tm_aot_profile_ticks[(i)] = (uint32_t)(tm_port_counter() - tm_profile_t0))

#endif
#endif /* TM_PROFILE_H */
