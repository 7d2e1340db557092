[CmdletBinding(SupportsShouldProcess)]
param ([string]$Path)
# Read-only: Authenticode status and signer of a file.
$Ansible.Changed = $false
$sig = Get-AuthenticodeSignature -FilePath $Path
@{ status = [string]$sig.Status; subject = [string]$sig.SignerCertificate.Subject }
