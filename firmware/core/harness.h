/* Protocol core: the MLPerf Tiny / EEMBC legacy device protocol, with no hardware in it.
 *
 * A port feeds received characters in; the core answers through the port's write function.
 * Replies match reference firmware byte for byte (../shared/transcripts), so every existing
 * MLPerf Tiny runner, and tinyperf's, can drive it unchanged.
 */
#ifndef TP_HARNESS_H
#define TP_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Reference firmware keeps 80 characters of a command and silently drops the rest. */
#define TP_COMMAND_CHARS 80

/* Prints the boot banner: timestamp mode, a timestamp, m-init-done, m-ready. */
void tp_harness_boot(void);

/* Feeds one received character; a '%' ends a command and runs it. */
void tp_harness_feed(char c);

/* Reads characters from the port and answers them until the input ends (never, on a board). */
void tp_harness_serve(void);

/* Extension point (the fast binary transfer builds on it): a command word the core does not know
 * is offered here first, with the rest of the line after `cursor`. Return 1 if handled (the core
 * then only adds m-ready), 0 to let the core answer "Unknown command". The default, a weak
 * definition, claims nothing; a port or extension module overrides it by defining it again. */
int tp_extension_command(const char *word, char *rest);

#endif
