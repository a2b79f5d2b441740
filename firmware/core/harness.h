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

/* Runs one command line (no '%'), reply and m-ready included. */
void tp_harness_run_command(char *line);

/* The model input becomes `data` (zero-padded to the input size), as if loaded by `db`. */
void tp_harness_set_input(const uint8_t *data, size_t length);

/* `infer N W` on the current input; `results_only` prints just the m-results line (no timestamps). */
void tp_harness_infer(int32_t count, int32_t warmup, int results_only);
/* While on, every m-results line is followed by m-results-f32-[...] (the extension's exact outputs). */
void tp_harness_exact_results(int on);

/* A timestamp as the build's mode gives it: m-lap-us-N, or (energy mode) a pulse of the timestamp pin. */
void tp_harness_timestamp(void);

/* `count` inferences on the current input; 0, or -1 after printing the error line. */
int tp_harness_run(int32_t count);

/* `tp-profile`: one inference on the current input, then each operator's device-timer ticks
 * (`m-tp-op-[i,OP,ticks]`), their sum and the timer's rate; an error line if the engine has no ops. */
void tp_harness_profile(void);

/* Parsing helpers shared with the extension: reference firmware's atoi, strtok(" "), strcmp == 0. */
int32_t tp_parse_int(const char *text);
char *tp_next_word(char **cursor);
int tp_same(const char *a, const char *b);

/* Extension points, weak in the core (legacy only) and defined by core/extension.c:
 * - tp_extension_command: a command word the core does not know, with the rest of the line; return
 *   1 if handled (the core then adds m-ready), 0 for "Unknown command".
 * - tp_extension_feed: sees every received byte first; return 1 if it took it (frame bytes, 0x00).
 * - tp_extension_read: the serve loop's read (the extension times its baud-rate fallback in it). */
int tp_extension_command(const char *word, char *rest);
int tp_extension_feed(uint8_t byte);
int tp_extension_read(void);

#endif
