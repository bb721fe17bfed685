{{- define "relais.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "relais.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "relais.labels" -}}
app.kubernetes.io/name: {{ include "relais.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "relais.selectorLabels" -}}
app.kubernetes.io/name: {{ include "relais.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "relais.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "relais.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "relais.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "relais.ledgerSecretName" -}}
{{- if .Values.ledger.existingSecret -}}
{{ .Values.ledger.existingSecret }}
{{- else -}}
{{ include "relais.fullname" . }}-ledger
{{- end -}}
{{- end -}}

{{/* The ledger URL, from a Secret: all the migration hook needs (it runs before the ConfigMap exists). */}}
{{- define "relais.ledgerEnv" -}}
- name: RELAIS_LEDGER__URL
  valueFrom:
    secretKeyRef:
      name: {{ include "relais.ledgerSecretName" . }}
      key: {{ .Values.ledger.urlKey }}
{{- end -}}

{{/* How many processes call the OPCOs: dispatch + poll replicas, or the single replicas. */}}
{{- define "relais.opcoCallers" -}}
{{- if eq .Values.mode "single" -}}
{{- max 1 .Values.single.replicas -}}
{{- else -}}
{{- max 1 (add .Values.roles.dispatch.replicas .Values.roles.poll.replicas) -}}
{{- end -}}
{{- end -}}

{{/* Environment of every relais role container. */}}
{{- define "relais.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "relais.fullname" . }}-config
  {{- with .Values.extraEnvFrom }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
env:
  {{- include "relais.ledgerEnv" . | nindent 2 }}
  {{- if .Values.kafkaSasl.existingSecret }}
  - name: RELAIS_KAFKA__SASL_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ .Values.kafkaSasl.existingSecret }}
        key: {{ .Values.kafkaSasl.passwordKey }}
  {{- end }}
  {{- if .Values.credentials.existingSecret }}
  - name: RELAIS_CREDENTIALS__KEYS_FILE
    value: {{ printf "%s/keys/%s" .Values.credentials.mountPath .Values.credentials.keysFileKey | quote }}
  {{- end }}
  {{- if .Values.credentials.oauthExistingSecret }}
  - name: RELAIS_CREDENTIALS__OAUTH_CLIENTS_FILE
    value: {{ printf "%s/oauth/%s" .Values.credentials.mountPath .Values.credentials.oauthFileKey | quote }}
  {{- end }}
  {{- with .Values.files.s3.existingSecret }}
  - name: RELAIS_FILES__S3__ACCESS_KEY_ID
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ $.Values.files.s3.accessKeyIdKey }}
  - name: RELAIS_FILES__S3__SECRET_ACCESS_KEY
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ $.Values.files.s3.secretAccessKeyKey }}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{- define "relais.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  {{- if .Values.credentials.existingSecret }}
  - name: cfa-keys
    mountPath: {{ printf "%s/keys" .Values.credentials.mountPath }}
    readOnly: true
  {{- end }}
  {{- if .Values.credentials.oauthExistingSecret }}
  - name: oauth-clients
    mountPath: {{ printf "%s/oauth" .Values.credentials.mountPath }}
    readOnly: true
  {{- end }}
  {{- if .Values.files.localBase }}
  - name: cfa-files
    mountPath: {{ .Values.files.localBase }}
    readOnly: true
  {{- end }}
  {{- with .Values.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{- define "relais.volumes" -}}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  {{- if .Values.credentials.existingSecret }}
  - name: cfa-keys
    secret:
      secretName: {{ .Values.credentials.existingSecret }}
      defaultMode: 0400
  {{- end }}
  {{- if .Values.credentials.oauthExistingSecret }}
  - name: oauth-clients
    secret:
      secretName: {{ .Values.credentials.oauthExistingSecret }}
      defaultMode: 0400
  {{- end }}
  {{- if .Values.files.localBase }}
  - name: cfa-files
    {{- if not .Values.files.volume }}
    {{- fail "files.localBase needs files.volume (e.g. {persistentVolumeClaim: {claimName: cfa-files}})" }}
    {{- end }}
    {{- toYaml .Values.files.volume | nindent 4 }}
  {{- end }}
  {{- with .Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* The pod spec of one relais process: $ = root context, .args = command args, .resources. */}}
{{- define "relais.podSpec" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "relais.serviceAccountName" $root }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ add $root.Values.shutdownGraceSeconds $root.Values.terminationGraceMarginSeconds }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: relais
    image: {{ include "relais.image" $root | quote }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    ports:
      - name: http
        containerPort: {{ $root.Values.config.http.port }}
        protocol: TCP
    {{- include "relais.env" $root | nindent 4 }}
    livenessProbe:
      httpGet: {path: /health/live, port: http}
      periodSeconds: 10
      timeoutSeconds: 3
      failureThreshold: 3
    readinessProbe:
      httpGet: {path: /health/ready, port: http}
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 3
    startupProbe:
      httpGet: {path: /health/live, port: http}
      periodSeconds: 2
      failureThreshold: 30
    resources:
      {{- toYaml .resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    {{- include "relais.volumeMounts" $root | nindent 4 }}
{{- include "relais.volumes" $root | nindent 0 }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
