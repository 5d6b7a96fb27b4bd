// What the server tells runners about itself (Drone's DRONE_SYSTEM_* variables).
import type { SystemInfo } from '../core/protocol.ts';
import { HARRIER_VERSION } from '../core/version.ts';

export function systemInfo(host: string): SystemInfo {
  const url = new URL(host);
  return { link: host, host: url.host, proto: url.protocol.replace(':', ''), version: HARRIER_VERSION };
}
