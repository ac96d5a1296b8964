/**
 * One-line structured logging for the monitor and CLI. Library code logs
 * through a `Logger`; only the CLI writes its results to stdout.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** Ids and small values attached to a log line. Never put secrets here. */
export type LogFields = Record<string, string | number | boolean | undefined>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel
  /** Line sink. Default: a write to `process.stderr`. */
  write?: (line: string) => void
}

/**
 * Creates a logger that writes `ISO-time LEVEL message key=value ...` lines,
 * one per call, to stderr unless `write` is given.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const minimum = LEVEL_RANK[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LEVEL_RANK[level] < minimum) return
    write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${formatFields(fields)}\n`)
  }
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  }
}

/** A logger that discards everything, for tests and `--quiet`. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return ''
  const parts: string[] = []
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    parts.push(`${key}=${quoteIfNeeded(String(value))}`)
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : ''
}

function quoteIfNeeded(value: string): string {
  // One line per entry: newlines inside values would split it.
  const single = value.replace(/\r?\n/g, '\\n')
  return /[\s"=]/.test(single) || single === '' ? JSON.stringify(single) : single
}

/** Returns the message of an unknown thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
