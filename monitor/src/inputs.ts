/** Reading the files and folders named on the command line. */

import { readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, extname, resolve } from 'node:path'
import { UsageError } from './cli-args.ts'

/** Reads a text file named by `label` (for example `--policy`); a missing file is a usage error. */
export function readInput(label: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message
    throw new UsageError(`cannot read ${label} "${path}": ${reason}`, `check that the ${label} path exists and is readable`)
  }
}

/**
 * Returns the worktree as an absolute path with symlinks resolved, as
 * OpenCode reports paths. With `mustExist` false a missing folder (for
 * example the worktree of an old capture) is only made absolute.
 */
export function worktreePath(path: string, mustExist: boolean): string {
  const absolute = resolve(path)
  let isDirectory = false
  try {
    isDirectory = statSync(absolute).isDirectory()
  } catch {
    if (mustExist) throw new UsageError(`worktree "${path}" does not exist`, 'give --worktree the folder the agent works in')
    return absolute
  }
  if (!isDirectory) throw new UsageError(`worktree "${path}" is not a directory`, 'give --worktree the folder the agent works in')
  return realpathSync(absolute)
}

/**
 * Returns a plan's id: the top-level `plan:` value of a YAML or JSON plan
 * file, or else the file name without its extension.
 */
export function planIdOf(path: string, text: string): string {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && typeof (value as { plan?: unknown }).plan === 'string') {
      return (value as { plan: string }).plan
    }
  } catch {
    // Not JSON; read it as YAML below.
  }
  // NOTE: reads only a plain top-level `plan: name` line, not every YAML spelling.
  const match = /^plan:[ \t]*(["']?)([^"'#\r\n]+?)\1[ \t]*(?:#.*)?$/m.exec(text)
  if (match?.[2]) return match[2]
  return basename(path, extname(path))
}
