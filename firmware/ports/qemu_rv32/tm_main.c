/* tm_main.c - bare-metal main for the QEMU RV32 port: serve the protocol forever. */
#include "tm_harness.h"
#include "tm_port.h"

int main(void)
{
    tm_port_init();
    tm_harness_init();
    for (;;) {
        tm_harness_poll();
    }
}
