// The AdmissionReview envelope (admission.k8s.io/v1): read by the admission source, written
// back by the admission response.
export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_KIND = 'AdmissionReview';
