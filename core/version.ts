// Harrier's version, reported to runners (DRONE_SYSTEM_VERSION) and by `harrier --version`.
// A test keeps it equal to package.json's.
export const HARRIER_VERSION = '0.1.0';
