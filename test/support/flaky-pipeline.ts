// A pipeline that fails until the test says otherwise: its step reads the repository secret
// `marker` and passes once the test has set it to "released", printing `{name}-passes`,
// else `{name}-fails`. What changes between a build's attempts is then the test's doing.
export const MARKER_SECRET = 'marker';
export const MARKER_WITHHELD = 'withheld';
export const MARKER_RELEASED = 'released';

export function flakyPipeline(name: string): string {
  return `kind: pipeline
type: docker
name: ${name}
steps:
- name: check
  image: alpine:3
  environment:
    MARKER:
      from_secret: ${MARKER_SECRET}
  commands:
  - if [ "$MARKER" = ${MARKER_RELEASED} ]; then echo ${name}-passes; else echo ${name}-fails; exit 1; fi
`;
}
