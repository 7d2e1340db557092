[CmdletBinding(SupportsShouldProcess)]
param ()
# Read-only: the host's local clock, who is logged on interactively (console or RDP, found as
# the owners of explorer.exe processes), and whether Windows itself has a restart pending
# (Component Based Servicing, Windows Update, pending file renames).
$Ansible.Changed = $false
$users = @(Get-CimInstance -ClassName Win32_Process -Filter "Name = 'explorer.exe'" -ErrorAction SilentlyContinue |
    ForEach-Object {
        $owner = Invoke-CimMethod -InputObject $_ -MethodName GetOwner -ErrorAction SilentlyContinue
        if ($owner -and $owner.User) { '{0}\{1}' -f $owner.Domain, $owner.User }
    } | Sort-Object -Unique)
$pending = (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') -or
    (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') -or
    [bool](Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name PendingFileRenameOperations -ErrorAction SilentlyContinue)
@{ now = (Get-Date).ToString('HH:mm'); users = $users; pending = $pending }
