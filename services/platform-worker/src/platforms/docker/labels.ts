// Everything the broker creates on the engine carries these labels, so release (and a clean-up after
// a crash) can find it by execution.
export const LABEL_MANAGED = 'org.ivoa.execution-broker.managed';
export const LABEL_EXECUTION = 'org.ivoa.execution-broker.execution';
export const LABEL_COMPONENT = 'org.ivoa.execution-broker.component';
// A network made ahead, before the execution it will be given to is known.
export const LABEL_SPARE = 'org.ivoa.execution-broker.spare';

export const containerName = (executionUuid: string) => `eb-${executionUuid}`;
