/* tm_harness.c - the EEMBC / MLPerf Tiny DUT command parser.
 *
 * Wire format (what MLPerf Tiny's runner expects, kept to the letter):
 *   command%                      commands end with '%'
 *   m-name-dut-[NAME]             `name`
 *   m-profile-[VER] m-model-[M]   `profile`
 *   m-lap-us-N                    `timestamp` (performance mode) and around `infer`
 *   m-[Expecting N bytes]         `db load N`;  m-load-done when the buffer is full
 *   m-buffer-xx-xx-..             `db print [N] [offset]`, 8 bytes per line
 *   m-warmup-start-W m-warmup-done m-infer-start-N m-lap-us-a m-lap-us-b
 *   m-infer-done m-results-[f,f,..]   `infer N W`
 *   e-[...]                       any error;  m-ready after every command
 * Our extensions use their own names (m-tm-*, m-selftest-*), see tm_cmd_help().
 *
 * Defensive by construction: every buffer index is checked before the write,
 * numbers are parsed strictly, and an error never leaves state half-changed.
 */
#include "tm_harness.h"

#include <stddef.h>
#include <string.h>

#include "tm_fmt.h"
#include "tm_port.h"
#include "tm_runtime.h"

#ifndef TM_DUT_NAME
#define TM_DUT_NAME "tinyml"
#endif
#ifndef TM_ENERGY_MODE
#define TM_ENERGY_MODE 0
#endif
#ifndef TM_BUILD_CFLAGS
#define TM_BUILD_CFLAGS "unknown"
#endif
#ifndef TM_TRIGGER_PULSE_US
#define TM_TRIGGER_PULSE_US 10u
#endif
#ifndef TM_MAX_TOKENS
#define TM_MAX_TOKENS 4
#endif
#ifndef TM_CLOCK_KIND
#define TM_CLOCK_KIND "device"   /* "virtual" on emulators: clock_hz is declared, not real */
#endif

/* Golden vectors for `selftest`: firmware/generated/tm_golden.h (written by
 * `tinyml export`) must define TM_GOLDEN_COUNT, TM_GOLDEN_INPUT_BYTES,
 * TM_GOLDEN_OUTPUT_BYTES and the arrays
 *   const int8_t tm_golden_inputs[TM_GOLDEN_COUNT][TM_GOLDEN_INPUT_BYTES];
 *   const int8_t tm_golden_outputs[TM_GOLDEN_COUNT][TM_GOLDEN_OUTPUT_BYTES];
 * (defined in the header or declared extern there). This file is its only
 * includer. Without it `selftest` answers e-[...]. */
#if defined(__has_include)
#if __has_include("tm_golden.h")
#include "tm_golden.h"
#define TM_HAVE_GOLDEN 1
#endif
#endif
#if defined(__has_include)
#if __has_include("tm_model_meta.h")
#include "tm_model_meta.h"
#endif
#endif

#define TM_MAX_(a, b) ((a) > (b) ? (a) : (b))
#ifndef TM_DB_CAPACITY
#ifdef TM_MODEL_INPUT_BYTES
#define TM_DB_CAPACITY TM_MAX_(TM_MODEL_INPUT_BYTES, 256u)
#else
#define TM_DB_CAPACITY 16384u
#endif
#endif
#ifndef TM_OUT_CAPACITY
#ifdef TM_MODEL_OUTPUT_BYTES
#define TM_OUT_CAPACITY TM_MAX_(TM_MODEL_OUTPUT_BYTES, 16u)
#else
#define TM_OUT_CAPACITY 1024u
#endif
#endif

#if defined(TM_ENABLE_PROFILE) && TM_ENABLE_PROFILE
uint64_t tm_profile_t0;   /* start of the current op, for ports/tm_profile.h */
#endif

static char g_line[TM_CMD_MAX + 1];
static uint32_t g_line_len;
static int g_line_overflow;
static int g_line_lost;           /* receive overrun during this line: discard it */
static uint32_t g_overruns_seen;

static int8_t g_db[TM_DB_CAPACITY];
static uint32_t g_db_size;       /* bytes announced by `db load` */
static uint32_t g_db_pos;        /* bytes received so far */

static int8_t g_out[TM_OUT_CAPACITY];
static int g_have_results;
static int g_rt_ok;

/* ---------------------------------------------------------------- output */

static void tm_err(const char *msg)
{
    tm_out_str("e-[");
    tm_out_str(msg);
    tm_out_str("]");
    tm_out_nl();
}

static void tm_err_u(const char *a, uint64_t v, const char *b)
{
    tm_out_str("e-[");
    tm_out_str(a);
    tm_out_u64(v);
    tm_out_str(b);
    tm_out_str("]");
    tm_out_nl();
}

static void tm_ready(void)
{
    tm_out_str("m-ready");
    tm_out_nl();
}

static void tm_info_str(const char *key, const char *val)
{
    tm_out_str("m-tm-info-");
    tm_out_str(key);
    tm_out_str("-[");
    tm_out_safe(val != NULL ? val : "", 200);
    tm_out_str("]");
    tm_out_nl();
}

static void tm_info_u(const char *key, uint64_t val)
{
    tm_out_str("m-tm-info-");
    tm_out_str(key);
    tm_out_str("-[");
    tm_out_u64(val);
    tm_out_str("]");
    tm_out_nl();
}

/* ---------------------------------------------------------------- parsing */

/* Strict unsigned decimal: digits only, at most 9 of them (fits uint32). */
static int tm_parse_u32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    int n = 0;
    if (s == NULL || *s == '\0') return -1;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9' || ++n > 9) return -1;
        v = v * 10u + (uint32_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int tm_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int tm_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Split the line in place into at most max tokens; returns the count, or
 * max + 1 when there were more (the caller reports it). */
static int tm_tokenize(char *s, char **tok, int max)
{
    int n = 0;
    while (*s != '\0') {
        while (tm_is_space(*s)) *s++ = '\0';
        if (*s == '\0') break;
        if (n == max) return max + 1;
        tok[n++] = s;
        while (*s != '\0' && !tm_is_space(*s)) ++s;
    }
    return n;
}

/* ---------------------------------------------------------------- commands */

static const tm_rt_info_t *tm_info(void) { return tm_rt_info(); }

static int tm_runtime_usable(void)
{
    const tm_rt_info_t *info;
    if (!g_rt_ok) {
        tm_err("runtime failed to initialise; see boot messages");
        return 0;
    }
    info = tm_info();
    if (info->input_bytes > TM_DB_CAPACITY || info->output_bytes > TM_OUT_CAPACITY) {
        tm_err("model tensors exceed TM_DB_CAPACITY/TM_OUT_CAPACITY; rebuild with larger values");
        return 0;
    }
    return 1;
}

static void tm_cmd_name(void)
{
    tm_out_str("m-name-dut-[");
    tm_out_safe(TM_DUT_NAME, 64);
    tm_out_str("]");
    tm_out_nl();
}

static void tm_cmd_profile(void)
{
    const tm_rt_info_t *info = tm_info();
    tm_out_str("m-profile-[" TM_HARNESS_VERSION "]");
    tm_out_nl();
    tm_out_str("m-model-[");
    tm_out_safe(info->model_name != NULL ? info->model_name : "unknown", 64);
    tm_out_str("]");
    tm_out_nl();
}

static void tm_cmd_timestamp(void)
{
#if TM_ENERGY_MODE
    /* Energy mode: the energy monitor timestamps the falling edge; hold the
     * pin low long enough for its sampling (TM_TRIGGER_PULSE_US). */
    uint64_t t0;
    tm_port_trigger(1);
    tm_port_trigger(0);
    t0 = tm_port_micros();
    while (tm_port_micros() - t0 < TM_TRIGGER_PULSE_US) {
    }
    tm_port_trigger(1);
#else
    tm_out_str("m-lap-us-");
    tm_out_u64(tm_port_micros());
    tm_out_nl();
#endif
}

static void tm_cmd_help(void)
{
    static const char *const lines[] = {
        TM_HARNESS_VERSION,
        "help          : this text",
        "name          : m-name-dut-[NAME]",
        "profile       : m-profile-[VER] m-model-[MODEL]",
        "timestamp     : m-lap-us-N (performance) or trigger pulse (energy)",
        "db load N     : expect N input bytes",
        "db HH[HH]*    : append hex bytes (m-load-done when complete)",
        "db print [N=16] [offset=0] : m-buffer-xx-.. lines",
        "infer N [W=10]: W warm-ups then N timed inferences, prints results",
        "results       : m-results-[f,..] dequantized, m-tm-raw-[i8,..]",
        "crc           : m-tm-crc32-[hex] of the loaded bytes (extension)",
        "info          : m-tm-info-KEY-[VALUE] build record (extension)",
        "layers        : m-tm-layer-[i,op,count] last inference (extension)",
        "selftest      : m-selftest-pass-[N/N] golden vectors (extension)",
        "bulk PATH I N : samples I..I+N-1 of a host file, one m-tm-sample line each (emulators)",
        "any byte sent during infer/bulk aborts it",
    };
    size_t i;
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); ++i) {
        tm_out_str(lines[i]);
        tm_out_nl();
    }
}

static void tm_cmd_db_load(char **tok, int ntok)
{
    uint32_t n;
    if (ntok != 3 || tm_parse_u32(tok[2], &n) != 0) {
        tm_err("db load needs one decimal byte count");
        return;
    }
    if (n == 0u) {
        tm_err("db load must be >0 bytes");
        return;
    }
    if (n > TM_DB_CAPACITY) {
        tm_err_u("db load exceeds the buffer of ", TM_DB_CAPACITY, " bytes");
        return;
    }
    g_db_size = n;
    g_db_pos = 0;
    g_have_results = 0;   /* results belong to the previous input */
    tm_out_str("m-[Expecting ");
    tm_out_u64(n);
    tm_out_str(" bytes]");
    tm_out_nl();
}

static void tm_cmd_db_hex(const char *hex)
{
    size_t len = strlen(hex);
    size_t i;
    if (g_db_size == 0u) {
        tm_err("db data before db load N");
        return;
    }
    if (g_db_pos >= g_db_size) {
        tm_err("db buffer already full; send db load N to start again");
        return;
    }
    if ((len & 1u) != 0u) {
        tm_err("odd number of hex digits");
        return;
    }
    /* Validate the whole chunk before touching the buffer: all or nothing. */
    for (i = 0; i < len; ++i) {
        if (tm_hexval(hex[i]) < 0) {
            tm_out_str("e-[Invalid hex digit at ");
            tm_out_u64(i);
            tm_out_str("]");
            tm_out_nl();
            return;
        }
    }
    if (len / 2u > (size_t)(g_db_size - g_db_pos)) {
        tm_err_u("too many bytes: ", (uint64_t)(len / 2u), " sent");
        return;
    }
    for (i = 0; i < len; i += 2) {
        g_db[g_db_pos++] = (int8_t)(uint8_t)((tm_hexval(hex[i]) << 4) | tm_hexval(hex[i + 1]));
    }
    if (g_db_pos == g_db_size) {
        tm_out_str("m-load-done");
        tm_out_nl();
    }
}

static void tm_cmd_db_print(char **tok, int ntok)
{
    uint32_t n = g_db_pos < 16u ? g_db_pos : 16u;  /* MLPerf default N=16, capped to what arrived */
    uint32_t off = 0u;
    uint32_t i;
    if (ntok > 4 || (ntok >= 3 && tm_parse_u32(tok[2], &n) != 0) ||
        (ntok == 4 && tm_parse_u32(tok[3], &off) != 0)) {
        tm_err("db print [N] [offset] takes decimal numbers");
        return;
    }
    if (off > g_db_pos || n > g_db_pos - off) {   /* never bytes of an earlier upload */
        tm_err_u("db print range exceeds the ", g_db_pos, " bytes received");
        return;
    }
    for (i = 0; i < n; ++i) {
        if (i % 8u == 0u) tm_out_str("m-buffer-");
        tm_out_hex8((uint8_t)g_db[off + i]);
        if ((i + 1u) % 8u == 0u || i + 1u == n) {
            tm_out_nl();
        } else {
            tm_port_putc('-');
        }
    }
}

static void tm_cmd_db(char **tok, int ntok)
{
    if (ntok < 2) {
        tm_err("db needs a subcommand: load N, HH.., print");
        return;
    }
    if (strcmp(tok[1], "load") == 0) {
        tm_cmd_db_load(tok, ntok);
    } else if (strcmp(tok[1], "print") == 0) {
        tm_cmd_db_print(tok, ntok);
    } else if (ntok == 2) {
        tm_cmd_db_hex(tok[1]);
    } else {
        tm_err("db takes one run of hex digits");
    }
}

static void tm_print_results(void)
{
    const tm_rt_info_t *info = tm_info();
    uint32_t i;
    tm_out_str("m-results-[");
    for (i = 0; i < info->output_bytes; ++i) {
        if (i != 0u) tm_port_putc(',');
        tm_out_f3(info->output_scale * (float)((int32_t)g_out[i] - info->output_zero_point));
    }
    tm_out_str("]");
    tm_out_nl();
    tm_out_str("m-tm-raw-[");
    for (i = 0; i < info->output_bytes; ++i) {
        if (i != 0u) tm_port_putc(',');
        tm_out_i32(g_out[i]);
    }
    tm_out_str("]");
    tm_out_nl();
    /* Extension: lets the host tell a garbled raw line from a real output. */
    tm_out_str("m-tm-raw-crc32-[");
    tm_out_hex32(tm_crc32((const uint8_t *)g_out, info->output_bytes));
    tm_out_str("]");
    tm_out_nl();
}

static int tm_input_ready(void)
{
    const tm_rt_info_t *info = tm_info();
    if (g_db_size == 0u || g_db_pos != g_db_size) {
        tm_out_str("e-[input incomplete: ");
        tm_out_u64(g_db_pos);
        tm_out_str(" of ");
        tm_out_u64(g_db_size);
        tm_out_str(" bytes loaded]");
        tm_out_nl();
        return 0;
    }
    if (g_db_size != info->input_bytes) {
        tm_out_str("e-[loaded ");
        tm_out_u64(g_db_size);
        tm_out_str(" bytes but the model input is ");
        tm_out_u64(info->input_bytes);
        tm_out_str(" bytes]");
        tm_out_nl();
        return 0;
    }
    return 1;
}

/* A byte from the host while inferences run aborts them (bytes stay queued). */
static int tm_abort_requested(uint32_t done, uint32_t total)
{
    if (!tm_port_rx_ready()) return 0;
    tm_out_str("e-[infer aborted by host input after ");
    tm_out_u64(done);
    tm_out_str(" of ");
    tm_out_u64(total);
    tm_out_str(" runs]");
    tm_out_nl();
    return 1;
}

static void tm_cmd_infer(char **tok, int ntok)
{
    uint32_t n = 1u, w = 10u, i;
    uint64_t c0, c1;
    int rc = 0;
    g_have_results = 0;   /* a refused or aborted infer must not leave old results */
    if (ntok > 3 || (ntok >= 2 && tm_parse_u32(tok[1], &n) != 0) ||
        (ntok == 3 && tm_parse_u32(tok[2], &w) != 0)) {
        tm_err("infer N [W] takes decimal numbers");
        return;
    }
    if (n == 0u) {
        tm_err("Inference iterations must be >0");
        return;
    }
    if (n > TM_INFER_MAX || w > TM_INFER_MAX - n) {
        tm_err_u("infer N + W must be <= ", TM_INFER_MAX, "");
        return;
    }
    if (!tm_runtime_usable() || !tm_input_ready()) return;

    tm_out_str("m-warmup-start-");
    tm_out_u64(w);
    tm_out_nl();
    for (i = 0; i < w && rc == 0; ++i) {
        if (tm_abort_requested(i, w)) return;
        rc = tm_rt_invoke(g_db, g_out);
    }
    tm_out_str("m-warmup-done");
    tm_out_nl();
    tm_out_str("m-infer-start-");
    tm_out_u64(n);
    tm_out_nl();
    /* The two timestamps bracket the timed loop: m-lap-us lines in performance
     * mode, falling edges on the trigger pin in energy mode (nothing else may
     * pulse the pin in between). */
    tm_cmd_timestamp();
    c0 = tm_port_counter();
    for (i = 0; i < n && rc == 0; ++i) {
        if (tm_abort_requested(i, n)) return;
        rc = tm_rt_invoke(g_db, g_out);
    }
    c1 = tm_port_counter();
    tm_cmd_timestamp();
    tm_out_str("m-infer-done");
    tm_out_nl();
    if (rc != 0) {
        g_have_results = 0;
        tm_err_u("runtime invoke failed with code ", (uint64_t)(uint32_t)rc, "");
        return;
    }
    g_have_results = 1;
    /* Extension: counter total over the N timed runs, in the port's unit. */
    tm_out_str("m-tm-counter-[");
    tm_out_str(tm_port_counter_unit());
    tm_port_putc(',');
    tm_out_u64(c1 - c0);
    tm_port_putc(',');
    tm_out_u64(n);
    tm_out_str("]");
    tm_out_nl();
    tm_print_results();
}

static void tm_cmd_results(void)
{
    if (!g_have_results) {
        tm_err("no results yet: run infer first");
        return;
    }
    tm_print_results();
}

static void tm_cmd_crc(void)
{
    tm_out_str("m-tm-crc32-[");
    tm_out_hex32(tm_crc32((const uint8_t *)g_db, g_db_pos));
    tm_port_putc(',');
    tm_out_u64(g_db_pos);
    tm_out_str("]");
    tm_out_nl();
}

static void tm_cmd_info(void)
{
    const tm_rt_info_t *info = tm_info();
    tm_info_str("harness", TM_HARNESS_VERSION);
    tm_info_str("board", tm_port_board());
    tm_info_u("clock_hz", tm_port_clock_hz());
    tm_info_str("clock", TM_CLOCK_KIND);
    tm_info_str("counter_unit", tm_port_counter_unit());
    tm_info_u("counter_resolution", tm_port_counter_resolution());
#if defined(__VERSION__)
    tm_info_str("compiler", __VERSION__);
#endif
    tm_info_str("cflags", TM_BUILD_CFLAGS);
    tm_info_str("runtime", info->runtime);
    tm_info_str("kernel_path", info->kernel_path);
    tm_info_str("model", info->model_name);
    tm_info_str("model_sha256", info->model_sha256);
    tm_info_u("input_bytes", info->input_bytes);
    tm_info_u("output_bytes", info->output_bytes);
    tm_info_u("arena_bytes", info->arena_bytes);
    tm_info_u("arena_used_bytes", info->arena_used_bytes);
    tm_info_u("op_count", info->op_count);
    tm_info_u("macs", info->macs);
    tm_info_u("db_capacity", TM_DB_CAPACITY);
    tm_info_str("timestamp_mode", TM_ENERGY_MODE ? "energy" : "performance");
#ifdef TM_HAVE_GOLDEN
    tm_info_u("golden_count", TM_GOLDEN_COUNT);
#else
    tm_info_u("golden_count", 0);
#endif
}

static void tm_cmd_layers(void)
{
    const char *const *ops = NULL;
    const uint32_t *ticks = NULL;
    uint32_t n, i;
    if (!g_have_results) {
        tm_err("no inference yet: run infer first");
        return;
    }
    n = tm_rt_profile(&ops, &ticks);
    if (n == 0u || ops == NULL || ticks == NULL) {
        tm_err("no per-layer profile: build with -D TM_ENABLE_PROFILE=1");
        return;
    }
    for (i = 0; i < n; ++i) {
        tm_out_str("m-tm-layer-[");
        tm_out_u64(i);
        tm_port_putc(',');
        tm_out_safe(ops[i] != NULL ? ops[i] : "?", 48);
        tm_port_putc(',');
        tm_out_u64(ticks[i]);
        tm_out_str("]");
        tm_out_nl();
    }
    tm_out_str("m-tm-layers-[");
    tm_out_u64(n);
    tm_port_putc(',');
    tm_out_str(tm_port_counter_unit());
    tm_out_str("]");
    tm_out_nl();
}

static void tm_cmd_selftest(void)
{
#ifdef TM_HAVE_GOLDEN
    const tm_rt_info_t *info;
    uint32_t v, b;
    if (!tm_runtime_usable()) return;
    info = tm_info();
    if (info->input_bytes != TM_GOLDEN_INPUT_BYTES || info->output_bytes != TM_GOLDEN_OUTPUT_BYTES) {
        tm_err("golden vectors do not match the model tensor sizes; re-run tinyml export");
        return;
    }
    for (v = 0; v < (uint32_t)TM_GOLDEN_COUNT; ++v) {
        if (tm_rt_invoke(tm_golden_inputs[v], g_out) != 0) {
            tm_err_u("selftest: runtime invoke failed on vector ", v, "");
            return;
        }
        for (b = 0; b < (uint32_t)TM_GOLDEN_OUTPUT_BYTES; ++b) {
            if (g_out[b] != tm_golden_outputs[v][b]) {
                tm_out_str("m-selftest-fail-[vector=");
                tm_out_u64(v);
                tm_out_str(",byte=");
                tm_out_u64(b);
                tm_out_str(",got=");
                tm_out_i32(g_out[b]);
                tm_out_str(",want=");
                tm_out_i32(tm_golden_outputs[v][b]);
                tm_out_str("]");
                tm_out_nl();
                g_have_results = 0;  /* g_out no longer holds the db input's result */
                return;
            }
        }
    }
    g_have_results = 0;
    tm_out_str("m-selftest-pass-[");
    tm_out_u64(TM_GOLDEN_COUNT);
    tm_port_putc('/');
    tm_out_u64(TM_GOLDEN_COUNT);
    tm_out_str("]");
    tm_out_nl();
#else
    tm_err("selftest: no golden vectors built in (firmware/generated/tm_golden.h missing)");
#endif
}

static void tm_out_hex_bytes(const int8_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; ++i) tm_out_hex8((uint8_t)p[i]);
}

/* Extension for emulated boards: read input samples from a host file (the
 * port's tm_port_host_read, semihosting on QEMU) instead of crawling through an
 * emulated UART, run each once and report only results:
 *   m-tm-sample-[INDEX,COUNTER,INPUT_CRC32,OUTPUT_HEX,OUTPUT_CRC32]
 * then m-tm-bulk-done-[N]. Sample i sits at byte i * input_bytes. */
static void tm_cmd_bulk(char **tok, int ntok)
{
    const tm_rt_info_t *info;
    uint32_t first, count, i;
    if (ntok != 4 || tm_parse_u32(tok[2], &first) != 0 || tm_parse_u32(tok[3], &count) != 0) {
        tm_err("bulk PATH FIRST COUNT takes a file path and two decimal numbers");
        return;
    }
    if (count == 0u || count > TM_INFER_MAX) {
        tm_err_u("bulk COUNT must be 1..", TM_INFER_MAX, "");
        return;
    }
    if (!tm_runtime_usable()) return;
    info = tm_info();
    g_have_results = 0;
    g_db_size = g_db_pos = 0;   /* the buffer now holds bulk samples, not an upload */
    for (i = 0; i < count; ++i) {
        const uint64_t off = (uint64_t)(first + i) * info->input_bytes;
        uint64_t c0, c1;
        int rc;
        if (tm_abort_requested(i, count)) return;
        if (off + info->input_bytes > 0xFFFFFFFFu) {
            tm_err("bulk: sample offset beyond 4 GiB");
            return;
        }
        rc = tm_port_host_read(tok[1], (uint32_t)off, g_db, info->input_bytes);
        if (rc == -1) {
            tm_err("bulk: this port has no host file access (emulators only); use db uploads");
            return;
        }
        if (rc != 0) {
            tm_err_u("bulk: cannot read sample ", first + i, " from the host file");
            return;
        }
        g_db_size = g_db_pos = info->input_bytes;
        c0 = tm_port_counter();
        rc = tm_rt_invoke(g_db, g_out);
        c1 = tm_port_counter();
        if (rc != 0) {
            tm_err_u("runtime invoke failed with code ", (uint64_t)(uint32_t)rc, "");
            return;
        }
        tm_out_str("m-tm-sample-[");
        tm_out_u64(first + i);
        tm_port_putc(',');
        tm_out_u64(c1 - c0);
        tm_port_putc(',');
        tm_out_hex32(tm_crc32((const uint8_t *)g_db, info->input_bytes));
        tm_port_putc(',');
        tm_out_hex_bytes(g_out, info->output_bytes);
        tm_port_putc(',');
        tm_out_hex32(tm_crc32((const uint8_t *)g_out, info->output_bytes));
        tm_out_str("]");
        tm_out_nl();
    }
    g_have_results = 1;
    tm_out_str("m-tm-bulk-done-[");
    tm_out_u64(count);
    tm_out_str("]");
    tm_out_nl();
}

static void tm_dispatch(char *line)
{
    char *tok[TM_MAX_TOKENS];
    int ntok = tm_tokenize(line, tok, TM_MAX_TOKENS);
    if (ntok == 0) {
        tm_err("empty command");
    } else if (ntok > TM_MAX_TOKENS) {
        tm_err("too many arguments");
    } else if (strcmp(tok[0], "name") == 0) {
        tm_cmd_name();
    } else if (strcmp(tok[0], "profile") == 0) {
        tm_cmd_profile();
    } else if (strcmp(tok[0], "timestamp") == 0) {
        tm_cmd_timestamp();
    } else if (strcmp(tok[0], "help") == 0) {
        tm_cmd_help();
    } else if (strcmp(tok[0], "db") == 0) {
        tm_cmd_db(tok, ntok);
    } else if (strcmp(tok[0], "infer") == 0) {
        tm_cmd_infer(tok, ntok);
    } else if (strcmp(tok[0], "results") == 0) {
        tm_cmd_results();
    } else if (strcmp(tok[0], "crc") == 0) {
        tm_cmd_crc();
    } else if (strcmp(tok[0], "info") == 0) {
        tm_cmd_info();
    } else if (strcmp(tok[0], "layers") == 0) {
        tm_cmd_layers();
    } else if (strcmp(tok[0], "selftest") == 0) {
        tm_cmd_selftest();
    } else if (strcmp(tok[0], "bulk") == 0) {
        tm_cmd_bulk(tok, ntok);
    } else {
        tm_out_str("e-[Unknown command: ");
        tm_out_safe(tok[0], 32);
        tm_out_str("]");
        tm_out_nl();
    }
    tm_ready();
}

/* ---------------------------------------------------------------- public */

void tm_harness_feed(int c)
{
    if (c < 0) return;
    if (c == '%') {
        if (g_line_lost) {
            tm_err("receive overrun: bytes were lost, command discarded; send it again");
            tm_ready();
        } else if (g_line_overflow) {
            tm_err_u("command too long: max ", TM_CMD_MAX, " characters");
            tm_ready();
        } else {
            g_line[g_line_len] = '\0';
            tm_dispatch(g_line);
        }
        g_line_len = 0;
        g_line_overflow = 0;
        g_line_lost = 0;
        return;
    }
    if (g_line_len == 0u && tm_is_space((char)c)) return;  /* stray newlines between commands */
    if (g_line_len >= TM_CMD_MAX) {
        g_line_overflow = 1;   /* keep discarding until the next '%' */
        return;
    }
    g_line[g_line_len++] = (char)(c == 0 ? '?' : c);  /* a NUL must not end the line early */
}

void tm_harness_poll(void)
{
    int c;
    while ((c = tm_port_getc()) >= 0) {
        const uint32_t lost = tm_port_rx_overruns();
        if (lost != g_overruns_seen) {   /* some byte of this line may be missing */
            g_overruns_seen = lost;
            g_line_lost = 1;
        }
        tm_harness_feed(c);
    }
}

void tm_harness_init(void)
{
    g_line_len = 0;
    g_line_overflow = 0;
    g_line_lost = 0;
    g_overruns_seen = tm_port_rx_overruns();
    g_db_size = 0;
    g_db_pos = 0;
    g_have_results = 0;
    tm_out_str(TM_ENERGY_MODE ? "m-timestamp-mode-energy" : "m-timestamp-mode-performance");
    tm_out_nl();
    tm_port_trigger(1);
    g_rt_ok = (tm_rt_init() == 0);
    if (!g_rt_ok) tm_err("runtime init failed");
    tm_out_str("m-init-done");
    tm_out_nl();
    tm_ready();
}
