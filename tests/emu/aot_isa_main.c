/* aot_isa_main.c - bare-metal AOT test image for the other emulated ISAs
 * (QEMU Xtensa LX106 and RV32IMC, firmware/ports/qemu_xtensa and qemu_rv32).
 *
 * Runs the generated model on the inputs compiled in (tm_aot_test_inputs.h) and
 * prints over the UART: "aot-path <portable|dsp>", "aot-cal <instructions>
 * <expected>" (a loop of known length, to check the counter), then per input
 * "aot-instr <i> <instructions>" and "aot-out <i> <hex bytes>"; finally
 * "aot-done". The port supplies start-up, UART, counter and exit. */
#include <stdint.h>

#include "tm_aot.h"
#include "tm_aot_model.h"
#include "tm_aot_test_inputs.h"
#include "tm_port.h"

static int8_t tm_test_out[TM_MODEL_OUTPUT_BYTES];

static void put(const char *s)
{
    while (*s != '\0') {
        tm_port_putc(*s++);
    }
}

static void put_u64(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        tm_port_putc(buf[--n]);
    }
}

static void put_hex(const int8_t *p, uint32_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t i;
    for (i = 0; i < n; ++i) {
        const uint8_t b = (uint8_t)p[i];
        tm_port_putc(hex[b >> 4]);
        tm_port_putc(hex[b & 15u]);
    }
}

/* Exactly 2 instructions per iteration (decrement, branch while non-zero). */
static void cal_loop(uint32_t n)
{
#if defined(__xtensa__)
    __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+a"(n));
#elif defined(__riscv)
    __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
#else
#error "aot_isa_main.c: Xtensa or RISC-V only"
#endif
}

int main(void)
{
    uint32_t i;
    uint64_t t0, t1;
    tm_port_init();
    put("aot-path " TM_AOT_KERNEL_PATH "\r\n");
    t0 = tm_port_counter();
    cal_loop(1000000u);
    t1 = tm_port_counter();
    put("aot-cal ");
    put_u64(t1 - t0);
    put(" 2000000\r\n");
    for (i = 0; i < TM_TEST_N; ++i) {
        t0 = tm_port_counter();
        (void)tm_model_invoke(tm_test_inputs[i], tm_test_out);
        t1 = tm_port_counter();
        put("aot-instr ");
        put_u64(i);
        put(" ");
        put_u64(t1 - t0);
        put("\r\naot-out ");
        put_u64(i);
        put(" ");
        put_hex(tm_test_out, TM_MODEL_OUTPUT_BYTES);
        put("\r\n");
    }
    put("aot-done\r\n");
    return 0;
}
