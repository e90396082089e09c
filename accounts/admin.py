from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class AcademyUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Certificate", {"fields": ("full_name",)}))
    list_display = ("username", "full_name", "email", "is_staff", "date_joined")
    search_fields = ("username", "full_name", "email")
