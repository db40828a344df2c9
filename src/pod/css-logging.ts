/**
 * CSS's logging, with messages below the server's level dropped before winston sees them.
 *
 * Why: CSS logs through winston, which runs its whole format chain (label, colours, timestamp, metadata, printf)
 * on every message and leaves the level check to the console transport at the end. CSS logs several debug and info
 * messages per request, so a server at level 'warn' spent about a tenth of each request formatting lines it then
 * threw away (CPU profile of a local pod answering `fedinvoice show`: winston and logform ~100 ms of ~900 ms).
 *
 * How: the process's logger factory is set to this one before a server is built, so the loggers its components
 * make as they are built filter first. CSS's own logger initializer later sets a plain winston factory; loggers made
 * after that (few, and not per request) log as CSS always did. The factory is process-wide in CSS, so the level is
 * that of the last server started in the process, as it is with CSS's own factory.
 */
import { BaseLogger, LOG_LEVELS, setGlobalLoggerFactory, WinstonLoggerFactory, type LogLevel, type Logger, type LoggerFactory, type LogMetadata } from '@solid/community-server';

class LevelFilteringLogger extends BaseLogger {
  constructor(
    private readonly inner: Logger,
    private readonly rank: number,
  ) {
    super();
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): this {
    if (LOG_LEVELS.indexOf(level) <= this.rank) this.inner.log(level, message, meta);
    return this;
  }
}

/** Loggers of `inner` (by default CSS's winston loggers at `level`) that never see a message below `level`. */
export class LevelFilteringLoggerFactory implements LoggerFactory {
  private readonly rank: number;

  constructor(
    level: LogLevel,
    private readonly inner: LoggerFactory = new WinstonLoggerFactory(level),
  ) {
    this.rank = LOG_LEVELS.indexOf(level);
  }

  createLogger(label: string): Logger {
    return new LevelFilteringLogger(this.inner.createLogger(label), this.rank);
  }
}

/** Makes the loggers of the CSS built next drop messages below `level` at once. */
export function filterCssLogging(level: LogLevel): void {
  setGlobalLoggerFactory(new LevelFilteringLoggerFactory(level));
}
