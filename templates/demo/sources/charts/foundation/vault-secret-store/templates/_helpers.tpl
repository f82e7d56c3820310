{{/* Vault address; values may carry Go template text, so render it with tpl. */}}
{{- define "vault-secret-store.server" -}}
{{- tpl .Values.vault.server . | trim -}}
{{- end -}}

{{- define "vault-secret-store.provider" -}}
vault:
  server: {{ include "vault-secret-store.server" . | quote }}
  path: {{ .Values.vault.path }}
  version: {{ .Values.vault.version }}
  auth:
    kubernetes:
      mountPath: {{ .Values.vault.auth.mountPath }}
      role: {{ .Values.vault.auth.role }}
      serviceAccountRef:
        name: {{ .Values.vault.auth.serviceAccount }}
{{- end -}}
