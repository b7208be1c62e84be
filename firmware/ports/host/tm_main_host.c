/* tm_main_host.c - feed stdin to the harness until end of input. */
#include "tm_harness.h"
#include "tm_port.h"

int main(void)
{
    tm_port_init();
    tm_harness_init();
    tm_harness_poll();   /* returns at end of stdin */
    tm_port_exit(0);
    return 0;
}
