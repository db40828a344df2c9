import { startSinglePod } from '../support/pods.ts';
import { resourcesContract } from './resources.contract.ts';

resourcesContract('memory-backed', () => startSinglePod('memory'));
