# This account's values for sfnecs stack 'nightly' (from the StackSpec exported).
subnets         = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
security_groups = ["sg-0a1b2c3d"]
image           = ""
notify_email    = ""
