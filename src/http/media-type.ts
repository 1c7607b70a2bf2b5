/** The media type a remote `mms` asks for: the cmdlet's whole result (kind, columns, paging), so it prints the same. */
export const RESULT_MEDIA_TYPE = 'application/vnd.mms.result+json';
