/**
 * Command-line parsing for `mc-governance`. Every problem becomes a
 * `UsageError` whose message names the value received and how to fix it.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A mistake in the command line; the CLI exits with status 2. */
export class UsageError extends Error {
  readonly help: string | undefined

  constructor(message: string, help?: string) {
    super(message)
    this.name = 'UsageError'
    this.help = help
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/**
 * Parses a command's arguments strictly: unknown options, missing option
 * values and extra positionals are usage errors.
 */
export function parseCommand(command: string, args: string[], options: OptionSpec, maxPositionals: number): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw translateParseError(command, error, options)
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals]
    throw new UsageError(
      `unexpected argument "${extra}" for "${command}"`,
      `see \`mc-governance ${command} --help\` for the accepted arguments`,
    )
  }
  return { values: parsed.values as ParsedCommand['values'], positionals: parsed.positionals }
}

/** Returns a string option, or throws naming the option when it is required and missing. */
export function stringOption(command: string, parsed: ParsedCommand, name: string, required: true): string
export function stringOption(command: string, parsed: ParsedCommand, name: string, required?: false): string | undefined
export function stringOption(command: string, parsed: ParsedCommand, name: string, required = false): string | undefined {
  const value = parsed.values[name]
  if (typeof value === 'string') {
    if (value.trim() === '') throw new UsageError(`empty value for --${name}`, `give --${name} a value`)
    return value
  }
  if (required) throw new UsageError(`"${command}" needs --${name}`, `add --${name} ${placeholder(name)}`)
  return undefined
}

export function booleanOption(parsed: ParsedCommand, name: string): boolean {
  return parsed.values[name] === true
}

/** Checks that `value` is an http(s) URL and returns it without a trailing slash. */
export function httpUrl(option: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`invalid URL "${value}" for --${option}`, `give a full URL such as http://127.0.0.1:4096`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`unsupported URL scheme "${url.protocol}" in --${option} "${value}"`, 'use an http:// or https:// URL')
  }
  return value.replace(/\/+$/, '')
}

function placeholder(name: string): string {
  const known: Record<string, string> = { url: 'URL', worktree: 'DIR', policy: 'FILE', plan: 'FILE', job: 'ID', snapshot: 'FILE', replay: 'FILE' }
  return known[name] ?? 'VALUE'
}

function translateParseError(command: string, error: unknown, options: OptionSpec): UsageError {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: string }).code
  const known = Object.keys(options).map((name) => `--${name}`).join(', ')
  const quoted = /'([^']+)'/.exec(message)?.[1]
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option "${quoted ?? message}" for "${command}"`, `accepted options: ${known}`)
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = quoted?.split(' ')[0] ?? 'an option'
      if (message.includes('does not take an argument')) {
        return new UsageError(`option "${option}" takes no value`, `write ${option} alone, without =VALUE`)
      }
      return new UsageError(`option "${option}" needs a value`, `write it as ${option} VALUE`)
    }
    default:
      return new UsageError(`invalid arguments for "${command}": ${message}`, `see \`mc-governance ${command} --help\``)
  }
}
