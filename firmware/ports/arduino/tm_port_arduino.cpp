/* tm_port_arduino.cpp - one port for every Arduino-framework board
 * (ESP32, ESP32-S3, STM32 Nucleo, nRF52840 Nano 33 BLE, RP2040 Pico).
 *
 * UART: TM_SERIAL (default Serial) at TM_SERIAL_BAUD; the Renode build of the
 * Nano 33 BLE uses Serial1 (a real UARTE), since Renode has no USB CDC. Counter, by core:
 *   ESP32 / ESP32-S3   CCOUNT via ESP.getCycleCount()        -> "cycles"
 *   Cortex-M3/M4/M7/M33 DWT CYCCNT                           -> "cycles"
 *   anything else (RP2040 = Cortex-M0+, no DWT)  micros()    -> "us"
 * 32-bit cycle counters wrap (ESP32 @240 MHz every 17.9 s), so every read is
 * checked against a 64-bit microsecond clock: when more than half a wrap
 * period passed since the last read, the cycle delta comes from the elapsed
 * microseconds instead (correct magnitude, microsecond resolution) - a long
 * `infer N` loop never loses wraps.
 * Energy mode: TM_TRIGGER_PIN (build flag) is the GPIO the energy monitor
 * watches; -1 (default) disables it.
 */
#include <Arduino.h>

#include "tm_harness.h"
#include "tm_port.h"

#ifndef TM_SERIAL_BAUD
#define TM_SERIAL_BAUD 115200
#endif
#ifndef TM_SERIAL
#define TM_SERIAL Serial
#endif
#ifndef TM_TRIGGER_PIN
#define TM_TRIGGER_PIN -1
#endif
#ifndef TM_SERIAL_WAIT_MS
#define TM_SERIAL_WAIT_MS 2000u   /* USB CDC boards: wait this long for the host to open the port */
#endif

#if defined(ARDUINO_ARCH_ESP32)
#include <esp_timer.h>
#define TM_HAVE_CYCLES 1
static inline uint32_t tm_cycles32(void) { return ESP.getCycleCount(); }
static inline void tm_cycles_start(void) {}
static uint32_t tm_cpu_hz(void) { return (uint32_t)getCpuFrequencyMhz() * 1000000u; }
#elif defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_8M_MAIN__)
#define TM_HAVE_CYCLES 1
#define TM_DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define TM_DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define TM_DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define TM_DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)
extern "C" uint32_t SystemCoreClock;   /* CMSIS, provided by every Cortex-M core */
static inline uint32_t tm_cycles32(void) { return TM_DWT_CYCCNT; }
static inline void tm_cycles_start(void)
{
    TM_DEMCR |= (1u << 24);            /* TRCENA: enable the DWT */
#if defined(__ARM_ARCH_7EM__)
    TM_DWT_LAR = 0xC5ACCE55u;          /* Cortex-M7 needs the lock opened; harmless elsewhere */
#endif
    TM_DWT_CYCCNT = 0u;
    TM_DWT_CTRL |= 1u;                 /* CYCCNTENA */
}
static uint32_t tm_cpu_hz(void) { return SystemCoreClock; }
#else
#define TM_HAVE_CYCLES 0
#if defined(__arm__)
extern "C" uint32_t SystemCoreClock;
static uint32_t tm_cpu_hz(void) { return SystemCoreClock; }
#else
static uint32_t tm_cpu_hz(void) { return (uint32_t)F_CPU; }
#endif
#endif

/* ---------------------------------------------------------------- time */

#if !defined(ARDUINO_ARCH_ESP32)   /* ESP32: esp_timer is 64-bit already */
static uint32_t g_us_last;
static uint32_t g_us_wraps;
#endif

static uint64_t tm_micros64(void)
{
#if defined(ARDUINO_ARCH_ESP32)
    return (uint64_t)esp_timer_get_time();
#else
    /* micros() wraps every 71.6 min; the idle loop reads it often enough. */
    uint32_t now = micros();
    if (now < g_us_last) ++g_us_wraps;
    g_us_last = now;
    return ((uint64_t)g_us_wraps << 32) | now;
#endif
}

#if TM_HAVE_CYCLES
static uint64_t g_cyc64;
static uint32_t g_cyc_last;
static uint64_t g_cyc_us_last;

static uint64_t tm_cycles64(void)
{
    uint32_t c = tm_cycles32();
    uint64_t us = tm_micros64();
    uint64_t dus = us - g_cyc_us_last;
    uint32_t mhz = tm_cpu_hz() / 1000000u;
    /* Half a wrap period in microseconds: 2^31 cycles / MHz. */
    uint64_t half_wrap_us = mhz ? ((uint64_t)1u << 31) / mhz : UINT64_MAX;
    if (dus < half_wrap_us) {
        g_cyc64 += (uint32_t)(c - g_cyc_last);
    } else {
        g_cyc64 += dus * mhz;
    }
    g_cyc_last = c;
    g_cyc_us_last = us;
    return g_cyc64;
}
#endif

/* ---------------------------------------------------------------- port API */

extern "C" {

void tm_port_init(void)
{
    TM_SERIAL.begin(TM_SERIAL_BAUD);
    uint32_t t0 = millis();
    while (!TM_SERIAL && (uint32_t)(millis() - t0) < TM_SERIAL_WAIT_MS) {
        delay(10);
    }
#if TM_TRIGGER_PIN >= 0
    pinMode(TM_TRIGGER_PIN, OUTPUT);
    digitalWrite(TM_TRIGGER_PIN, HIGH);
#endif
#if TM_HAVE_CYCLES
    tm_cycles_start();
    g_cyc_last = tm_cycles32();
    g_cyc_us_last = tm_micros64();
    g_cyc64 = 0;
#endif
}

int tm_port_getc(void)
{
    if (TM_SERIAL.available() > 0) return TM_SERIAL.read() & 0xFF;
    (void)tm_micros64();   /* keep the 64-bit clock extension fresh while idle */
    return -1;
}

int tm_port_rx_ready(void) { return TM_SERIAL.available() > 0; }

/* The Arduino cores buffer received bytes in their own interrupt-driven ring;
 * only some report losses, so this port cannot count them. */
uint32_t tm_port_rx_overruns(void) { return 0u; }

int tm_port_host_read(const char *path, uint32_t offset, void *buf, uint32_t n)
{
    (void)path; (void)offset; (void)buf; (void)n;
    return -1;   /* a real board has no host files: use db uploads */
}

void tm_port_putc(char c) { TM_SERIAL.write((uint8_t)c); }

void tm_port_write(const char *s, size_t n) { TM_SERIAL.write((const uint8_t *)s, n); }

uint64_t tm_port_counter(void)
{
#if TM_HAVE_CYCLES
    return tm_cycles64();
#else
    return tm_micros64();
#endif
}

const char *tm_port_counter_unit(void) { return TM_HAVE_CYCLES ? "cycles" : "us"; }
uint32_t tm_port_counter_resolution(void) { return 1u; }
uint64_t tm_port_micros(void) { return tm_micros64(); }

void tm_port_trigger(int level)
{
#if TM_TRIGGER_PIN >= 0
    digitalWrite(TM_TRIGGER_PIN, level ? HIGH : LOW);
#else
    (void)level;
#endif
}

const char *tm_port_board(void)
{
#if defined(TM_BOARD_NAME)
    return TM_BOARD_NAME;
#elif defined(ARDUINO_BOARD)
    return ARDUINO_BOARD;
#else
    return "arduino";
#endif
}

uint32_t tm_port_clock_hz(void) { return tm_cpu_hz(); }

void tm_port_exit(int code)
{
    (void)code;
    TM_SERIAL.flush();
    for (;;) {
        delay(1000);   /* halt, but keep RTOS watchdogs fed (ESP32) */
    }
}

}  /* extern "C" */

/* ---------------------------------------------------------------- Arduino entry */

void setup()
{
    tm_port_init();
    tm_harness_init();
}

void loop()
{
    tm_harness_poll();
}
