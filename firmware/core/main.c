/* Entry point for the bare-metal ports: set up the board, announce, answer commands forever. */
#include "harness.h"
#include "port.h"

int main(void) {
  tp_port_init();
  tp_harness_boot();
  tp_harness_serve();
  for (;;) {
  }
}
