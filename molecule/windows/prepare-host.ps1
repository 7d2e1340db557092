<#
.SYNOPSIS
    Prepare a Windows 10/11 lab VM (or the pilot PC) for Ansible over WinRM HTTPS.

.DESCRIPTION
    Run once, as administrator, in the VM:
        powershell -ExecutionPolicy Bypass -File prepare-host.ps1
    It
      * creates a self-signed certificate for the computer name (lab only; use your CA's
        certificate in production) and an HTTPS WinRM listener on 5986 with it;
      * runs Enable-PSRemoting -SkipNetworkProfileCheck (works on "Public" networks, as lab
        NAT adapters often are) and opens TCP 5986 in the firewall;
      * sets LocalAccountTokenFilterPolicy = 1 so a *local* administrator gets a full token over
        the network (without it NTLM logons of local accounts are filtered by UAC);
      * exports the certificate to winrm-lab.cer and prints it as PEM: save that on the controller
        and point MOLECULE_WINDOWS_CA (ansible_winrm_ca_trust_path) at it.
    Nothing here installs smart-card software; the roles do that.
#>
[CmdletBinding()]
param (
    [string]$DnsName = $env:COMPUTERNAME,
    [string]$ExportPath = (Join-Path $PSScriptRoot 'winrm-lab.cer')
)
$ErrorActionPreference = 'Stop'

Enable-PSRemoting -SkipNetworkProfileCheck -Force | Out-Null

$cert = Get-ChildItem Cert:\LocalMachine\My | Where-Object { $_.Subject -eq "CN=$DnsName" -and $_.NotAfter -gt (Get-Date).AddDays(30) } |
    Select-Object -First 1
if (-not $cert) {
    $cert = New-SelfSignedCertificate -DnsName $DnsName -CertStoreLocation Cert:\LocalMachine\My -NotAfter (Get-Date).AddYears(2)
}

Get-ChildItem WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTPS' } | Remove-Item -Recurse -Force
New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * -CertificateThumbPrint $cert.Thumbprint -HostName $DnsName -Force | Out-Null
Set-Item -Path WSMan:\localhost\Service\Auth\Basic -Value $false
Set-Item -Path WSMan:\localhost\Service\AllowUnencrypted -Value $false

if (-not (Get-NetFirewallRule -Name 'WinRM-HTTPS-In-TCP' -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -Name 'WinRM-HTTPS-In-TCP' -DisplayName 'Windows Remote Management (HTTPS-In)' `
        -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow -Profile Any | Out-Null
}

New-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' `
    -Name LocalAccountTokenFilterPolicy -PropertyType DWord -Value 1 -Force | Out-Null

Export-Certificate -Cert $cert -FilePath $ExportPath | Out-Null
$pem = "-----BEGIN CERTIFICATE-----`n" + [Convert]::ToBase64String($cert.RawData, 'InsertLineBreaks') + "`n-----END CERTIFICATE-----"
Write-Output "WinRM HTTPS listener on 5986 for $DnsName (thumbprint $($cert.Thumbprint))."
Write-Output "Save the following as winrm-lab.pem on the controller and export MOLECULE_WINDOWS_CA=<path>:"
Write-Output $pem
