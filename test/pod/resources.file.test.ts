import { startSinglePod } from '../support/pods.ts';
import { resourcesContract } from './resources.contract.ts';

// File backend in a temp dir (removed by stop()).
resourcesContract('file-backed', () => startSinglePod('file'));
