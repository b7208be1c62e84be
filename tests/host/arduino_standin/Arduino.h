/* Arduino.h - STAND-IN, NOT THE ARDUINO CORE. Written for tinyml's tests only.
 *
 * Declares just the Arduino API that firmware/ports/arduino/tm_port_arduino.cpp
 * uses, with the signatures of the Arduino cores (HardwareSerial, millis, ...),
 * so CI can compile the port with arm-none-eabi-g++ and host g++ without
 * downloading a board platform (tests/host/test_firmware_compiles.py). It has
 * no definitions: nothing built with it links or runs. The real cores may
 * declare more or differ in details; building against them is not verified in
 * this repository's CI.
 */
#ifndef TM_ARDUINO_STANDIN_H
#define TM_ARDUINO_STANDIN_H

#include <stddef.h>
#include <stdint.h>

#define HIGH 0x1
#define LOW 0x0
#define OUTPUT 0x1

#ifndef F_CPU
#define F_CPU 16000000UL
#endif

class HardwareSerial {
public:
    void begin(unsigned long baud);
    int available(void);
    int read(void);
    size_t write(uint8_t byte);
    size_t write(const uint8_t *buffer, size_t size);
    void flush(void);
    explicit operator bool() const;
};
extern HardwareSerial Serial;
extern HardwareSerial Serial1;

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);

#if defined(ARDUINO_ARCH_ESP32)
class EspClass {
public:
    uint32_t getCycleCount(void);
};
extern EspClass ESP;
uint32_t getCpuFrequencyMhz(void);
#endif

void setup(void);
void loop(void);

#endif /* TM_ARDUINO_STANDIN_H */
