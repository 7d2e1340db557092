[CmdletBinding(SupportsShouldProcess)]
param ([string]$Inf)
# Add a reader driver to the driver store with pnputil, unless the store already holds the same
# INF name at the same or a newer DriverVer. Exit codes (Microsoft, "PnPUtil return values"):
# 0 done; 259 no matching device, or a device already uses a better or newer driver (the package
# is in the store; reported, not an error); 3010 done, a restart finishes it; anything else fails.
$Ansible.Changed = $false
function Get-DriverVersion([string]$Path) {
    $line = Select-String -LiteralPath $Path -Pattern '^\s*DriverVer\s*=\s*([^,]*),\s*([0-9.]+)' | Select-Object -First 1
    if ($line) { [version]$line.Matches[0].Groups[2].Value } else { $null }
}
$name = Split-Path -Leaf $Inf
$wanted = Get-DriverVersion $Inf
$present = @(Get-WindowsDriver -Online | Where-Object { (Split-Path -Leaf $_.OriginalFileName) -eq $name })
$newest = $present | ForEach-Object { [version]$_.Version } | Sort-Object -Descending | Select-Object -First 1
$result = @{ inf = $name; wanted = [string]$wanted; present = [string]$newest; rc = $null; reboot_required = $false; note = '' }
if ($present.Count -gt 0 -and ($null -eq $wanted -or ($newest -and $newest -ge $wanted))) {
    $result.note = 'the driver store already holds this driver at the same or a newer version'
}
else {
    $Ansible.Changed = $true
    if ($PSCmdlet.ShouldProcess($Inf, 'pnputil /add-driver /install')) {
        $out = & pnputil.exe /add-driver $Inf /install
        $result.rc = $LASTEXITCODE
        switch ($LASTEXITCODE) {
            0 { }
            259 { $result.note = 'no connected device uses this driver yet (pnputil 259); it is in the driver store' }
            3010 { $result.reboot_required = $true }
            default { throw "pnputil /add-driver $Inf failed with exit code $($LASTEXITCODE): $($out -join ' ')" }
        }
    }
}
$Ansible.Result = $result
