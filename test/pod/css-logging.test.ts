/**
 * The local pods' log filter (src/pod/css-logging.ts): messages below the level never reach the logger that formats
 * them; the others reach it unchanged.
 */
import { BaseLogger, type LogLevel, type LogMetadata, type Logger } from '@solid/community-server';
import { describe, expect, it } from 'vitest';
import { LevelFilteringLoggerFactory } from '../../src/pod/css-logging.ts';

class RecordingLogger extends BaseLogger {
  constructor(readonly lines: string[]) {
    super();
  }

  log(level: LogLevel, message: string, _meta?: LogMetadata): this {
    this.lines.push(`${level}: ${message}`);
    return this;
  }
}

describe('LevelFilteringLoggerFactory', () => {
  it('passes messages at or above its level to the inner logger, and drops the rest before it sees them', () => {
    const lines: string[] = [];
    const labels: string[] = [];
    const factory = new LevelFilteringLoggerFactory('warn', {
      createLogger: (label: string): Logger => {
        labels.push(label);
        return new RecordingLogger(lines);
      },
    });
    const logger = factory.createLogger('LdpHandler');
    logger.error('disk full');
    logger.warn('slow');
    logger.info('GET /');
    logger.debug('parsed 3 quads');
    logger.silly('tick');
    expect(labels).toEqual(['LdpHandler']);
    expect(lines).toEqual(['error: disk full', 'warn: slow']);
  });

  it('at level debug drops only silly', () => {
    const lines: string[] = [];
    const logger = new LevelFilteringLoggerFactory('debug', { createLogger: () => new RecordingLogger(lines) }).createLogger('x');
    for (const level of ['error', 'warn', 'info', 'verbose', 'debug', 'silly'] as const) logger[level](level);
    expect(lines).toEqual(['error: error', 'warn: warn', 'info: info', 'verbose: verbose', 'debug: debug']);
  });
});
