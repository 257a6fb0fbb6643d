"""The stack as code: Terraform and CloudFormation rendered from the same StackSpec and builders `apply` uses."""
