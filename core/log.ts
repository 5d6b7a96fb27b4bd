// Logs are JSON events on stdout, one per line (twelve-factor), written by pino.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(component: string): Logger {
  return pino({
    level: process.env.HARRIER_LOG_LEVEL ?? 'info',
    base: { component },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
