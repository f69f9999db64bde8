#!/usr/bin/env bash
# Prepares an Azure SGX VM (DCsv3/DCdsv3) for attestation and enrols it in
# Fortanix Confidential Computing Manager by running the CCM node agent
# installer with the join token.
#
# The Linux Custom Script extension runs it as root, from its download
# directory:
#
#   bash install-node-agent.sh --join-token-b64 B64 --attestation-type DCAP|EPID \
#       (--installer-url-b64 B64 | --installer-file NAME) [--installer-sha256 HEX]
#
# Every value a user typed arrives base64-encoded, so none of it is ever read
# as shell syntax. The join token lives in one shell variable that is never
# exported, printed or written to a file; the installer gets it as its first
# argument and nothing else sees it.
#
# On failure the last line of stdout and of stderr says what failed and what
# to do about it, because that tail is all Azure shows in
# VMExtensionProvisioningError.
#
# Tests may move the files it reads and writes, and shorten its waits; nothing
# else about its behaviour can be changed from outside:
#   CCM_OS_RELEASE   os-release file to read (default /etc/os-release)
#   CCM_ROOT         prefix for every system path under /etc (default: none)
#   CCM_RETRY_DELAY  seconds between download and apt retries (default 15)

set -euo pipefail

# apt must never prompt. needrestart (Ubuntu 22.04) only lists services to
# restart: restarting walinuxagent would kill the extension running this.
export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_MODE=l

readonly LOG_PREFIX='[ccm-node-agent]'
readonly OS_RELEASE=${CCM_OS_RELEASE:-/etc/os-release}
readonly ROOT=${CCM_ROOT:-}
readonly RETRY_DELAY=${CCM_RETRY_DELAY:-15}

readonly APT_ATTEMPTS=10
readonly APT_LOCK_TIMEOUT=60
readonly KEYRING_DIR=/etc/apt/keyrings
readonly SOURCES_LIST=/etc/apt/sources.list
readonly SOURCES_DIR=/etc/apt/sources.list.d
readonly QCNL_CONFIG=/etc/sgx_default_qcnl.conf
readonly INSTALLER_DIR_NAME=ccm-node-agent-installer

readonly MICROSOFT_KEY_URL=https://packages.microsoft.com/keys/microsoft.asc
readonly MICROSOFT_FOCAL_REPO=https://packages.microsoft.com/ubuntu/20.04/prod
readonly INTEL_SGX_KEY_URL=https://download.01.org/intel-sgx/sgx_repo/ubuntu/intel-sgx-deb.key
readonly INTEL_SGX_REPO=https://download.01.org/intel-sgx/sgx_repo/ubuntu

# Azure's collateral cache (Trusted Hardware Identity Management, THIM).
# Keys and values follow Microsoft Learn, "Trusted Hardware Identity
# Management", section "How do I use Intel QPL with Trusted Hardware Identity
# Management?"; the v4 API path is the one in Intel's Azure sample config,
# QuoteGeneration/qcnl/linux/sgx_default_qcnl_azure.conf in
# intel/SGXDataCenterAttestationPrimitives. PCK certificates of Ice Lake VMs
# are only available from THIM, so both endpoints point at it; the local PCK
# URL is THIM behind the instance metadata address.
readonly THIM_URL=https://global.acccache.azure.net/sgx/certification/v4/
readonly THIM_LOCAL_PCK_URL=http://169.254.169.254/metadata/THIM/sgx/certification/v4/

current_step='starting'
failure_message=''
scratch_dir=''

join_token_b64=''
join_token=''
attestation_type=''
installer_url_b64=''
installer_url=''
installer_file=''
installer_sha256=''
os_id=''
os_version=''
installer_dir=''

log() {
  printf '%s %s\n' "$LOG_PREFIX" "$*"
}

warn() {
  printf '%s WARNING: %s\n' "$LOG_PREFIX" "$*"
  printf '%s WARNING: %s\n' "$LOG_PREFIX" "$*" >&2
}

step() {
  current_step=$1
  log "$1"
}

# Ends the run; the EXIT handler prints the message as the very last line.
die() {
  failure_message=$1
  exit 1
}

on_exit() {
  local status=$?

  if [[ -n $scratch_dir ]]; then
    rm -rf -- "$scratch_dir"
  fi

  if ((status != 0)); then
    if [[ -z $failure_message ]]; then
      failure_message="Node agent setup stopped unexpectedly (exit code $status) while ${current_step,}. Read the output above, fix the cause and run the extension again."
    fi
    printf '%s ERROR: %s\n' "$LOG_PREFIX" "$failure_message"
    printf '%s ERROR: %s\n' "$LOG_PREFIX" "$failure_message" >&2
  fi
}

decode_base64() {
  printf '%s' "$1" | base64 --decode 2>/dev/null
}

parse_arguments() {
  local count=$#

  while (($# > 0)); do
    case $1 in
      --join-token-b64 | --attestation-type | --installer-url-b64 | --installer-file | --installer-sha256)
        (($# >= 2)) || die "Option $1 needs a value. Fix the extension's commandToExecute and redeploy."
        case $1 in
          --join-token-b64) join_token_b64=$2 ;;
          --attestation-type) attestation_type=$2 ;;
          --installer-url-b64) installer_url_b64=$2 ;;
          --installer-file) installer_file=$2 ;;
          --installer-sha256) installer_sha256=$2 ;;
        esac
        shift 2
        ;;
      --*)
        die "Unknown option ${1%%=*}. Fix the extension's commandToExecute and redeploy."
        ;;
      *)
        die "Unexpected argument number $((count - $# + 1)). Fix the extension's commandToExecute and redeploy."
        ;;
    esac
  done
}

validate_arguments() {
  if [[ ! $RETRY_DELAY =~ ^[0-9]+$ ]]; then
    die "CCM_RETRY_DELAY must be a whole number of seconds. Unset it and run the extension again."
  fi

  if [[ -z $join_token_b64 ]]; then
    die "No join token was given (--join-token-b64). Copy a join token from CCM (Compute Nodes > Enroll node) and redeploy."
  fi
  if ! join_token=$(decode_base64 "$join_token_b64") || [[ -z $join_token ]]; then
    die "The join token argument is not valid base64 (--join-token-b64). Fix the extension's commandToExecute and redeploy."
  fi

  case $attestation_type in
    DCAP | EPID) ;;
    *) die "Attestation type must be DCAP or EPID (--attestation-type). Choose DCAP and redeploy." ;;
  esac

  if [[ -n $installer_url_b64 && -n $installer_file ]] || [[ -z $installer_url_b64 && -z $installer_file ]]; then
    die "Give exactly one of --installer-url-b64 and --installer-file. Fix the extension's commandToExecute and redeploy."
  fi
  if [[ -n $installer_url_b64 ]]; then
    if ! installer_url=$(decode_base64 "$installer_url_b64") || [[ -z $installer_url ]]; then
      die "The installer URL argument is not valid base64 (--installer-url-b64). Fix the extension's commandToExecute and redeploy."
    fi
    if [[ ${installer_url,,} != https://* ]]; then
      die "The installer URL must start with https://; other schemes are refused. Give an https URL for the node agent installer and redeploy."
    fi
  fi
  if [[ -n $installer_file && ! $installer_file =~ ^[A-Za-z0-9._][A-Za-z0-9._-]*$ ]]; then
    die "The installer file name must be a plain file name in the extension's download directory (--installer-file). Fix the template and redeploy."
  fi

  if [[ -n $installer_sha256 && ! $installer_sha256 =~ ^[0-9A-Fa-f]{64}$ ]]; then
    die "The installer checksum must be 64 hexadecimal digits (--installer-sha256). Copy the SHA-256 of the installer again and redeploy."
  fi
}

require_commands() {
  local command
  for command in "$@"; do
    if ! command -v "$command" >/dev/null 2>&1; then
      die "The command $command is missing on this VM. Use an unmodified Ubuntu 20.04 or 22.04 LTS Gen2 image and redeploy."
    fi
  done
}

detect_os() {
  step "Identifying the operating system from $OS_RELEASE"

  if [[ ! -r $OS_RELEASE ]]; then
    die "Cannot read $OS_RELEASE to identify the operating system; the node agent supports Ubuntu 20.04 and Ubuntu 22.04 LTS only. Redeploy with one of those images."
  fi

  local key value
  while IFS='=' read -r key value || [[ -n $key ]]; do
    value=${value#[\"\']}
    value=${value%[\"\']}
    case $key in
      ID) os_id=$value ;;
      VERSION_ID) os_version=$value ;;
    esac
  done <"$OS_RELEASE"

  case "$os_id $os_version" in
    'ubuntu 20.04' | 'ubuntu 22.04')
      log "Found Ubuntu $os_version."
      ;;
    *)
      die "Unsupported operating system: found ID=${os_id:-unknown} VERSION_ID=${os_version:-unknown} in $OS_RELEASE, but the node agent supports Ubuntu 20.04 and Ubuntu 22.04 LTS only. Redeploy with one of those images."
      ;;
  esac
}

# Downloads over https only, failing on HTTP errors, with bounded retries.
download() {
  local url=$1 destination=$2

  curl --fail --silent --show-error --location \
    --proto '=https' --proto-redir '=https' \
    --retry 5 --retry-delay "$RETRY_DELAY" --retry-connrefused \
    --connect-timeout 30 --max-time 900 \
    --output "$destination" "$url"
}

fetch_installer() {
  local package="$scratch_dir/installer.download"

  if [[ -n $installer_url ]]; then
    # The query string may carry a SAS token, so it is never logged.
    step "Downloading the node agent installer from ${installer_url%%\?*}"
    if ! download "$installer_url" "$package"; then
      die "Could not download the node agent installer from ${installer_url%%\?*}. Check that the URL is right and reachable from the VM's network, then redeploy."
    fi
  else
    step "Using the node agent installer file $installer_file"
    if [[ ! -f ./$installer_file ]]; then
      die "The installer file $installer_file is not in the extension's download directory. Add it to the extension's fileUris and redeploy."
    fi
    cp -- "./$installer_file" "$package"
  fi

  if [[ -n $installer_sha256 ]]; then
    local actual
    actual=$(sha256sum -- "$package")
    actual=${actual%% *}
    if [[ $actual != "${installer_sha256,,}" ]]; then
      die "The installer's SHA-256 checksum is $actual, not the expected ${installer_sha256,,}. Check the installer URL or file and the checksum, then redeploy."
    fi
    log "Installer checksum verified."
  fi

  unpack_installer "$package"
}

# The installer comes as a gzip'd tar archive or as a bare script; its content,
# not its name, says which.
unpack_installer() {
  local package=$1
  local target="$PWD/$INSTALLER_DIR_NAME"
  local magic

  rm -rf -- "$target"
  mkdir -m 0700 -- "$target"
  magic=$(head -c 2 -- "$package" | od -An -tx1 | tr -d ' \n')

  case $magic in
    1f8b)
      log "The installer is a gzip-compressed archive; unpacking it."
      if ! tar -xzf "$package" -C "$target" --no-same-owner; then
        die "Could not unpack the installer archive. Check that the installer URL or file is the CCM node agent package, then redeploy."
      fi
      locate_installer_script "$target"
      ;;
    2321)
      log "The installer is a shell script."
      cp -- "$package" "$target/installer.sh"
      installer_dir=$target
      ;;
    *)
      die "The installer is neither a gzip-compressed tar archive nor a shell script. Check that the installer URL or file is the CCM node agent package, then redeploy."
      ;;
  esac
}

locate_installer_script() {
  local target=$1
  local entries=("$target"/*)

  if [[ -f $target/installer.sh ]]; then
    installer_dir=$target
  elif ((${#entries[@]} == 1)) && [[ -d ${entries[0]} && -f ${entries[0]}/installer.sh ]]; then
    installer_dir=${entries[0]}
  else
    die "The installer archive has no installer.sh at its root or in a single top-level folder. Check that the installer URL or file is the CCM node agent package, then redeploy."
  fi
}

# Runs apt-get without prompts, waiting out the dpkg lock that cloud-init and
# unattended-upgrades often hold right after boot.
apt_get() {
  local hint=$1
  shift
  local output="$scratch_dir/apt-get.log"
  local attempt

  for ((attempt = 1; ; attempt++)); do
    if apt-get -q -y \
      -o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT" \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "$@" 2>&1 | tee "$output"; then
      return 0
    fi

    if ! grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock' "$output"; then
      die "apt-get $* failed; its output is above. $hint"
    fi
    if ((attempt >= APT_ATTEMPTS)); then
      die "apt-get $* could not get the package manager lock after $APT_ATTEMPTS attempts; another process (often cloud-init or unattended-upgrades) kept it. Wait for it to finish and run the extension again."
    fi
    log "The package manager is locked by another process (attempt $attempt of $APT_ATTEMPTS); retrying in ${RETRY_DELAY}s."
    sleep "$RETRY_DELAY"
  done
}

# Prints the file outside our own list that already names a repository, if any.
# A second entry for the same repository with another signing key would make
# apt refuse to run, so an existing entry is reused instead.
find_other_source() {
  local repository=$1 own_list=$2
  local file

  for file in "$ROOT$SOURCES_LIST" "$ROOT$SOURCES_DIR"/*.list "$ROOT$SOURCES_DIR"/*.sources; do
    [[ -f $file && $file != "$ROOT$own_list" ]] || continue
    if awk -v repository="$repository" \
      '$0 !~ /^[[:space:]]*#/ && index($0, repository) { found = 1 } END { exit !found }' "$file"; then
      printf '%s\n' "${file#"$ROOT"}"
      return 0
    fi
  done
  return 1
}

# Adds a signed-by apt source; rewriting the same two files keeps reruns from
# duplicating it.
add_apt_source() {
  local name=$1 key_url=$2 repository=$3 suite_and_components=$4
  local keyring="$KEYRING_DIR/ccm-$name.gpg"
  local list="$SOURCES_DIR/ccm-$name.list"
  local existing

  if existing=$(find_other_source "$repository" "$list"); then
    log "$repository is already configured in $existing; using that entry."
    return 0
  fi

  log "Adding the apt source $repository with the signing key from $key_url."
  if ! download "$key_url" "$scratch_dir/$name.asc"; then
    die "Could not download the repository signing key from $key_url. Check that the VM can reach it (network security group, proxy, DNS), then run the extension again."
  fi
  [[ -d $scratch_dir/gnupg ]] || mkdir -m 0700 -- "$scratch_dir/gnupg"
  if ! gpg --batch --yes --homedir "$scratch_dir/gnupg" --dearmor \
    --output "$scratch_dir/$name.gpg" "$scratch_dir/$name.asc"; then
    die "Could not convert the signing key from $key_url into an apt keyring. Run the extension again; if it keeps failing the key at that address has changed."
  fi
  install -D -m 0644 -- "$scratch_dir/$name.gpg" "$ROOT$keyring"

  printf 'deb [arch=amd64 signed-by=%s] %s %s\n' "$keyring" "$repository" "$suite_and_components" \
    >"$scratch_dir/$name.list"
  install -D -m 0644 -- "$scratch_dir/$name.list" "$ROOT$list"
}

install_az_dcap_client() {
  step "Installing az-dcap-client from Microsoft's Ubuntu 20.04 repository"
  add_apt_source microsoft-prod "$MICROSOFT_KEY_URL" "$MICROSOFT_FOCAL_REPO" 'focal main'
  apt_get "Check that the VM can reach packages.microsoft.com, then run the extension again." update
  apt_get "Check that the VM can reach packages.microsoft.com, then run the extension again." install az-dcap-client
}

install_intel_qpl() {
  step "Installing Intel's quote provider library from Intel's SGX repository for Ubuntu 22.04"
  add_apt_source intel-sgx "$INTEL_SGX_KEY_URL" "$INTEL_SGX_REPO" 'jammy main'
  apt_get "Check that the VM can reach download.01.org, then run the extension again." update
  apt_get "Check that the VM can reach download.01.org, then run the extension again." install libsgx-dcap-default-qpl

  step "Pointing Intel's quote provider library at Azure's collateral cache (THIM)"
  cat >"$scratch_dir/sgx_default_qcnl.conf" <<EOF
{
  "pccs_url": "$THIM_URL",
  "use_secure_cert": true,
  "collateral_service": "$THIM_URL",
  "pccs_api_version": "3.1",
  "retry_times": 6,
  "retry_delay": 5,
  "local_pck_url": "$THIM_LOCAL_PCK_URL",
  "pck_cache_expire_hours": 24,
  "verify_collateral_cache_expire_hours": 24,
  "custom_request_options": {
    "get_cert": {
      "headers": { "metadata": "true" },
      "params": { "api-version": "2021-07-22-preview" }
    }
  }
}
EOF
  install -D -m 0644 -- "$scratch_dir/sgx_default_qcnl.conf" "$ROOT$QCNL_CONFIG"

  # An AESM service that is already running read the old configuration.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet aesmd.service; then
    systemctl restart aesmd.service || warn "Could not restart aesmd; reboot the VM if quotes fail."
  fi
}

prepare_attestation() {
  if [[ $attestation_type == EPID ]]; then
    warn "EPID attestation was chosen. Intel retired its EPID attestation service (IAS) in April 2025, and DCsv3/DCdsv3 (Ice Lake) VMs cannot do EPID attestation at all, so enrolment will most likely fail. Redeploy with DCAP attestation if it does."
    return 0
  fi

  require_commands apt-get gpg
  case $os_version in
    20.04) install_az_dcap_client ;;
    22.04) install_intel_qpl ;;
  esac
}

run_installer() {
  step "Running the CCM node agent installer with --attestation-type=$attestation_type"
  local status=0

  (cd -- "$installer_dir" && bash ./installer.sh "$join_token" "--attestation-type=$attestation_type") </dev/null ||
    status=$?

  if ((status != 0)); then
    local advice="A common cause is a join token that has expired or was already used: create a new one in CCM (Compute Nodes > Enroll node) and redeploy."
    if [[ $attestation_type == EPID ]]; then
      advice="DCsv3/DCdsv3 VMs cannot do EPID attestation: redeploy with DCAP attestation."
    fi
    die "The CCM node agent installer failed with exit code $status; its output is above. $advice"
  fi
}

main() {
  parse_arguments "$@"
  require_commands base64 curl gzip head od sha256sum tar
  validate_arguments
  scratch_dir=$(mktemp -d "${TMPDIR:-/tmp}/ccm-node-agent.XXXXXX")

  detect_os
  fetch_installer
  prepare_attestation
  run_installer

  log "The CCM node agent is installed; the node should appear under Compute Nodes in CCM shortly."
}

trap on_exit EXIT
main "$@"
