// Limits of the wire protocol, with their units in their names. Server- and client-side limits
// that build on these live next to their users and are checked against these at load.

/** Apache's default jute.maxbuffer: the largest frame either side accepts (1 MiB - 1). */
export const FRAME_BYTES_MAX_DEFAULT = 0xfffff;

/** Bytes of the length prefix in front of every frame. */
export const FRAME_LENGTH_BYTES = 4;

/** The smallest valid body of a ConnectRequest: 4 + 8 + 4 + 8 + 4 (empty password). */
export const CONNECT_REQUEST_BYTES_MIN = 28;
