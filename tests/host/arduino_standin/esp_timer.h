/* esp_timer.h - STAND-IN for ESP-IDF's header, tinyml tests only (see Arduino.h here). */
#ifndef TM_ESP_TIMER_STANDIN_H
#define TM_ESP_TIMER_STANDIN_H
#include <stdint.h>
int64_t esp_timer_get_time(void);
#endif
