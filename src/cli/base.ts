import {Command, Flags, Errors} from '@oclif/core';
import {UserError, describeInternal} from './errors.js';
import {setLogLevel} from './log.js';

/**
 * Base of every nwd command: `--json` (oclif's), `--verbose`, `--quiet`, and one place that
 * turns errors into messages: user errors without a stack trace (exit 2), bugs with their
 * cause chain (exit 70).
 */
export abstract class NwdCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    verbose: Flags.boolean({description: 'Log which implementation ran and timings on stderr.', helpGroup: 'GLOBAL'}),
    quiet: Flags.boolean({description: 'Print no warnings or progress on stderr.', helpGroup: 'GLOBAL'}),
  };

  override async init(): Promise<void> {
    await super.init();
    if (this.argv.includes('--quiet')) setLogLevel('quiet');
    else if (this.argv.includes('--verbose')) setLogLevel('verbose');
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof UserError) {
      process.stderr.write(`error: ${err.describe()}\n`);
      this.exit(2);
    }
    if (err instanceof Errors.CLIError || (err as {oclif?: unknown}).oclif) return super.catch(err);
    process.stderr.write(`${describeInternal(err)}\n`);
    this.exit(70);
  }
}
